// One action of the detail panel at a time (a click that calls the node), with its failure shown.
import { useCallback, useState } from 'react';
import { refreshTorrents } from '../../state/live.ts';

/** Runs one action of the panel at a time; its failure (a torrent removed meanwhile, a refusal)
 *  shows in the panel instead of escaping as an unhandled rejection. */
export function useAction(): { busy: boolean; error: string | undefined; run: (fn: () => Promise<unknown>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      await refreshTorrents();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

