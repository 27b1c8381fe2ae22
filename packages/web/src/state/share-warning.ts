// The node's shareWarning (GET /api/health): why links it shares would lead nobody here — it
// listens beyond this machine while its trackers are all on it (set a public URL). null when fine.
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/api.ts';

export function useShareWarning(enabled: boolean): { warning: string | null; reload: () => void } {
  const [warning, setWarning] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    api.health().then(
      (h) => live && setWarning(typeof h.shareWarning === 'string' && h.shareWarning ? h.shareWarning : null),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [enabled, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { warning, reload };
}
