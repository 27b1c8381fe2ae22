// The connection banner: says when the live link to the node is lost and being re-established
// (with when the next attempt is and a "Retry now"), and that it came back. Shown only to those who
// get the live feed (owner and members); nothing shows while all is well.
import { useEffect, useState } from 'react';
import { reconnectNow, useLive } from '../state/live.ts';

export function ConnectionBanner() {
  const live = useLive();
  const [now, setNow] = useState(() => Date.now());
  const reconnecting = live.link === 'reconnecting';
  useEffect(() => {
    if (!reconnecting) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [reconnecting]);
  if (!live.link) return null;
  if (live.link === 'reconnected') {
    return (
      <div className="claim-banner banner-ok" role="status" data-testid="connection-status" data-status="reconnected">
        <span>Reconnected to the node.</span>
      </div>
    );
  }
  const wait = live.retryAt !== undefined ? Math.ceil((live.retryAt - now) / 1000) : undefined;
  return (
    <div className="claim-banner banner-warn" role="status" data-testid="connection-status" data-status="reconnecting">
      <span>
        Lost the connection to the node. Reconnecting…
        {wait !== undefined && wait > 0 ? ` (next try in ${wait} s)` : ''}
      </span>
      <button type="button" className="btn btn-small" onClick={() => reconnectNow()} data-testid="connection-retry">
        Retry now
      </button>
    </div>
  );
}
