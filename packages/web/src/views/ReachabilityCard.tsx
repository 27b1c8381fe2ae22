// How this node is reached (issue 23), in plain words: the NAT it sits behind, what that means for
// peers, the gateway's port mapping, the ICE servers in force, and what the user can do about it.
import { useEffect, useState } from 'react';
import { api, type NetworkStatus } from '../api/api.ts';
import { Stat } from '../components/ui.tsx';

const MEANING: Record<NetworkStatus['nat'], { dot: string; title: string; text: string }> = {
  open: { dot: 'dot-ok', title: 'Open', text: 'No NAT between this node and the internet: others can connect to you.' },
  cone: {
    dot: 'dot-ok',
    title: 'Behind a NAT (hole punching works)',
    text: 'Peers reach you directly: over TCP when a port is mapped, otherwise over WebRTC, which punches through your router.',
  },
  symmetric: {
    dot: 'dot-warn',
    title: 'Behind a strict NAT',
    text: 'Your router gives every destination a new port, so peers cannot reach you directly: they go through a relay (TURN), which is slower.',
  },
  unknown: { dot: 'dot-off', title: 'Not known yet', text: 'This node could not tell how it is reached.' },
};

function advice(n: NetworkStatus): string | null {
  const mapped = n.portMapping.method !== null;
  if (n.nat === 'symmetric') {
    const turn = n.iceServers.some((s) => s.urls.some((u) => /^turns?:/.test(u)));
    return turn
      ? 'To connect directly instead: turn on UPnP or NAT-PMP in your router, or forward the BitTorrent port to this machine.'
      : 'No TURN relay is configured: add one in Settings (ICE servers) or use a tracker that hands out TURN credentials, or forward the BitTorrent port in your router.';
  }
  if (n.nat === 'cone' && !mapped) return 'Standard clients (qBittorrent, Transmission) can only reach you if a port is mapped: turn on UPnP or NAT-PMP in your router, or forward the BitTorrent port.';
  if (n.nat === 'unknown') return 'Add a torrent with a Cascade tracker or configure a STUN server (Settings → ICE servers), then check again.';
  return null;
}

const METHOD: Record<string, string> = { upnp: 'UPnP', natpmp: 'NAT-PMP', pcp: 'PCP' };

export function ReachabilityCard() {
  const [net, setNet] = useState<NetworkStatus>();
  const [error, setError] = useState<string>();
  const [probing, setProbing] = useState(false);
  useEffect(() => {
    let stop = false;
    const load = () => api.network().then((n) => !stop && (setNet(n), setError(undefined)), (err: Error) => !stop && setError(err.message));
    void load();
    const t = setInterval(load, 5000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, []);
  const probe = async () => {
    setProbing(true);
    try {
      setNet(await api.probeNetwork());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setProbing(false);
    }
  };
  if (!net) return error ? null : <div className="card" data-testid="network-reachability"><h2>Reachability</h2><p className="small muted">Looking…</p></div>;
  const m = MEANING[net.nat];
  const pm = net.portMapping;
  const tip = advice(net);
  return (
    <div className="card" data-testid="network-reachability" data-nat={net.nat}>
      <h2>
        <span className={`dot ${m.dot}`} /> Reachability
      </h2>
      <p data-testid="network-nat">
        <strong>{m.title}.</strong> {m.text}
        {net.nat === 'unknown' && net.reason ? <span className="muted"> ({net.reason})</span> : null}
      </p>
      <div className="stat-grid">
        <Stat label="Seen from outside as" value={net.externalAddress ?? '—'} testId="network-external-address" />
        <Stat
          label="Port mapping"
          value={pm.method ? `${METHOD[pm.method] ?? pm.method}, port ${pm.externalPort}` : 'none'}
          testId="network-port-mapping"
        />
        <Stat label="WebRTC" value={net.relayOnly ? 'through a relay only' : net.iceServers.length > 0 ? `${net.iceServers.length} STUN/TURN server${net.iceServers.length === 1 ? '' : 's'}${net.iceSource === 'trackers' ? ' (from trackers)' : ''}` : 'direct only'} testId="network-ice" />
      </div>
      {!pm.method && pm.error && <p className="small muted" data-testid="network-port-mapping-error">Why no port is mapped: {pm.error}</p>}
      {tip && <p className="small" data-testid="network-advice">{tip}</p>}
      <p className="small muted">
        <button type="button" className="btn btn-small" onClick={() => void probe()} disabled={probing} data-testid="network-probe">
          {probing ? 'Checking…' : 'Check again'}
        </button>
        {net.probedAt ? <span> · checked {new Date(net.probedAt).toLocaleTimeString()}</span> : null}
      </p>
    </div>
  );
}
