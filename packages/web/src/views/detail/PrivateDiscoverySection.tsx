// The Info tab's private discovery switch (issue 14): whether this torrent announces and looks up
// peers only through onion circuits. The owner switches it (the node applies it at once); on a node
// started without a directory it is off and says why.
import { useEffect, useId, useState } from 'react';
import { nodeOptions } from '../../api/node-options.ts';
import { useAuth } from '../../state/auth.ts';
import { useAction } from './use-action.ts';

export function PrivateDiscoverySection({ infoHash, raw }: { infoHash: string; raw: Record<string, unknown> | undefined }) {
  const auth = useAuth();
  const owner = auth.status === 'open' || auth.role === 'owner';
  const helpId = useId();
  const available = raw?.privateDiscoveryAvailable === true;
  const [on, setOn] = useState(raw?.privateDiscovery === true);
  const action = useAction();
  useEffect(() => setOn(raw?.privateDiscovery === true), [raw?.privateDiscovery]);

  // Shown at once; put back if the node refuses.
  const change = (next: boolean) => {
    setOn(next);
    return action.run(async () => {
      try {
        const d = await nodeOptions.patchTorrent(infoHash, { privateDiscovery: next });
        setOn(d.privateDiscovery === true);
      } catch (err) {
        setOn(!next);
        throw err;
      }
    });
  };

  return (
    <section className="private-discovery" data-testid="detail-private-discovery-section">
      <label className="check">
        <input
          type="checkbox"
          checked={on}
          disabled={!available || !owner || action.busy}
          onChange={(e) => void change(e.target.checked)}
          aria-describedby={helpId}
          data-testid="detail-private-discovery"
        />
        Private discovery
      </label>
      <div className="muted small" id={helpId}>
        {!available ? (
          <span data-testid="detail-private-discovery-unavailable">
            Not available: the node was started without an onion directory (<code>--directory URL</code>).
          </span>
        ) : !owner ? (
          'Only the node’s owner can change it.'
        ) : on ? (
          'Trackers and the DHT are asked through onion relays; they never see this node’s address.'
        ) : (
          'Announces go out from this node’s address. Switch on to ask trackers and the DHT through onion relays.'
        )}
      </div>
      {action.error && (
        <div className="alert alert-error" role="alert" data-testid="detail-private-discovery-error">
          {action.error}
        </div>
      )}
    </section>
  );
}
