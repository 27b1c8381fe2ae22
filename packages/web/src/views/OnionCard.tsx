// Private discovery on the Network page (issue 14): the node's onion client — directories, relays,
// circuits, the last error — and its own relay when it runs one (`serve --relay`).
import type { OnionStatus } from '@cascade/shapes';
import { Stat } from '../components/ui.tsx';

export function OnionCard({ onion, directories }: { onion: OnionStatus | null | undefined; directories: string[] }) {
  if (!onion && directories.length === 0) return null;
  const ok = onion ? onion.relays.listed + onion.relays.learned >= 3 && !onion.lastError : true;
  return (
    <div className="card" data-testid="onion-card">
      <h2>
        <span className={`dot ${ok ? 'dot-ok' : 'dot-warn'}`} /> Private discovery
      </h2>
      {onion ? (
        <>
          <div className="stat-grid">
            <Stat label="Used for" value={onion.privateByDefault ? 'every torrent' : 'torrents that ask'} />
            <Stat label="Relays" value={`${onion.relays.listed} listed, ${onion.relays.learned} from peers`} testId="onion-relays" />
            <Stat label="Circuits" value={`${onion.circuits.built} built, ${onion.circuits.failed} failed`} testId="onion-circuits" />
            {onion.relay && (
              <Stat
                label="This node relays"
                value={`${onion.relay.tcp ?? onion.relay.ws ?? '—'}${onion.relay.exit ? ' · exit' : ''} · ${onion.relay.circuits} circuits${onion.relay.tabs ? ` · ${onion.relay.tabs} tab relays` : ''}`}
                testId="onion-own-relay"
              />
            )}
          </div>
          {onion.lastError && <p className="small muted">Last error: {onion.lastError}</p>}
        </>
      ) : null}
      <p className="small muted">
        Directories: <span className="mono">{(onion?.directories ?? directories).join(', ')}</span>
      </p>
    </div>
  );
}
