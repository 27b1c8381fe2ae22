// The top bar's "turtle": whether the node's alternative (slower) speed limits are in force, and a
// click to switch them (PATCH /api/settings altSpeedEnabled; owner only — members see the state).
// The node's schedule may switch them too, so the state is read again every 15 s and on focus.
import { useCallback, useEffect, useState } from 'react';
import { nodeOptions, settingsChanged, type NodeSettings } from '../api/node-options.ts';
import { formatSpeed } from '../format/format.ts';

const REREAD_MS = 15_000;

const limitText = (n: number) => (n ? formatSpeed(n) : 'no limit');

export function AltSpeedToggle({ owner }: { owner: boolean }) {
  const [settings, setSettings] = useState<NodeSettings>();
  const [busy, setBusy] = useState(false);
  const read = useCallback(() => {
    nodeOptions.settings().then(setSettings, () => {});
  }, []);
  useEffect(() => {
    read();
    const t = setInterval(read, REREAD_MS);
    window.addEventListener('focus', read);
    const changed = (e: Event) => setSettings((e as CustomEvent<NodeSettings>).detail);
    settingsChanged.addEventListener('change', changed);
    return () => {
      clearInterval(t);
      window.removeEventListener('focus', read);
      settingsChanged.removeEventListener('change', changed);
    };
  }, [read]);
  if (!settings) return null;
  const on = settings.altSpeedEnabled;
  const title = on
    ? `Alternative limits in force: ↓ ${limitText(settings.altDownloadLimit)}, ↑ ${limitText(settings.altUploadLimit)}`
    : `Normal limits: ↓ ${limitText(settings.downloadLimit)}, ↑ ${limitText(settings.uploadLimit)}`;
  return (
    <button
      type="button"
      className={`icon-btn alt-speed${on ? ' alt-speed-on' : ''}`}
      aria-pressed={on}
      aria-label="Alternative speed limits"
      title={`${title}${owner ? ' — click to switch' : ''}`}
      disabled={!owner || busy}
      onClick={async () => {
        setBusy(true);
        try {
          setSettings(await nodeOptions.saveSettings({ altSpeedEnabled: !on }));
        } catch {
          read();
        } finally {
          setBusy(false);
        }
      }}
      data-testid="alt-speed-toggle"
    >
      <IconTurtle />
    </button>
  );
}

function IconTurtle() {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d="M4 15a8 6 0 0 1 16 0z" />
      <path d="M20 15h1.5a1.5 1.5 0 0 0 0-3H19" />
      <path d="M6 15l-1 3M10 15v3M15 15v3M18 15l1 3" />
      <path d="M9 11l2-3 3 3-2 3z" />
    </svg>
  );
}
