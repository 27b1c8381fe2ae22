// "Relay for others" (issue 14): this tab becomes an onion relay while it is open — a first hop
// other browsers reach over WebRTC, never an exit. It carries only cells it cannot read.
import { useId } from 'react';
import { Stat } from '../components/ui.tsx';
import { tabRelay, useTabRelay } from '../browser/tab-relay.ts';

export function TabRelayCard({ available }: { available: boolean | undefined }) {
  const relay = useTabRelay();
  const helpId = useId();
  const s = relay.status;
  const state = !relay.on ? 'off' : relay.starting ? 'starting' : s?.registered ? 'relaying' : 'connecting';
  return (
    <div className="card" data-testid="tab-relay-card">
      <h2>
        <span className={`dot ${state === 'relaying' ? 'dot-ok' : relay.error ? 'dot-bad' : 'dot-off'}`} /> Relay for others
      </h2>
      <label className="check">
        <input
          type="checkbox"
          checked={relay.on}
          disabled={!relay.on && available === false}
          onChange={(e) => (e.target.checked ? void tabRelay.start() : tabRelay.stop())}
          aria-describedby={helpId}
          data-testid="tab-relay-switch"
        />
        Relay onion circuits for others while this tab is open
      </label>
      <p className="muted small" id={helpId}>
        {available === false && !relay.on ? (
          <span data-testid="tab-relay-unavailable">Not available: this node lists no relay directory (it runs without <code>--directory URL</code>).</span>
        ) : (
          'Other people’s browsers may then build their private-discovery circuits through this tab. It passes on fixed-size encrypted cells it cannot read, is never the hop that talks to a tracker, and uses a relay identity of its own, not yours. It stops when you close the tab.'
        )}
      </p>
      {relay.on && (
        <div
          className="stat-grid"
          data-testid="tab-relay-status"
          data-state={state}
          data-registered={s?.registered ? 'true' : 'false'}
          data-circuits={s?.circuits ?? 0}
          data-cells={s?.relayedCells ?? 0}
        >
          <Stat label="State" value={state} />
          <Stat label="Signalling through" value={s?.signal ? new URL(s.signal).host : '—'} />
          <Stat label="Published to" value={s ? `${s.published.filter((p) => p.ok).length} of ${s.published.length || '—'} directories` : '—'} />
          <Stat label="Links / circuits" value={s ? `${s.links} / ${s.circuits}` : '—'} testId="tab-relay-circuits" />
          <Stat label="Cells relayed" value={String(s?.relayedCells ?? 0)} />
        </div>
      )}
      {relay.error && (
        <div className="alert alert-error" role="alert" data-testid="tab-relay-error">
          {relay.error}
        </div>
      )}
    </div>
  );
}
