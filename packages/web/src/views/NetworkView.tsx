// Network health: the node's listener, DHT, peers, the live socket, and this tab's WebRTC peer.
import { Fragment, useEffect, useState } from 'react';
import { api, type Health } from '../api/api.ts';
import { useLive } from '../state/live.ts';
import { isMember, useAuth } from '../state/auth.ts';
import { formatBytes, formatSpeed, units18 } from '../format/format.ts';
import { Stat } from '../components/ui.tsx';
import { useBrowserPeer } from '../browser/browser-peer.ts';
import { TabRelayCard } from './TabRelayCard.tsx';
import type { OnionStatus } from '@cascade/shapes';
import { OnionCard } from './OnionCard.tsx';
import { ReachabilityCard } from './ReachabilityCard.tsx';

const KNOWN = new Set(['ok', 'bittorrentPort', 'port', 'peers', 'dhtNodes', 'dhtEnabled', 'dhtPort', 'torrents', 'httpPort', 'uptime', 'uptimeSeconds', 'version', 'ports', 'tracker', 'reachability', 'peersByTransport', 'peerId', 'nodeId', 'stateDir', 'downloadDir', 'chain', 'onion', 'privateDiscovery', 'webrtc']);

type Ports = Partial<Record<'http' | 'bittorrent' | 'dht' | 'trackerHttp' | 'trackerUdp' | 'control', number | null>>;
type TrackerUrls = { http?: string; udp?: string; ws?: string | null } | null;
type Reach = { status?: string; incomingPeers?: number; bittorrentHost?: string };
type Chain = {
  state?: 'starting' | 'running' | 'off' | 'error';
  error?: string;
  embedded?: boolean;
  rpcUrl?: string;
  chainId?: number;
  block?: string;
  contracts?: { registry: string; token: string; pool: string };
  account?: string;
  balances?: { ether: string; token: string };
  signer?: { url: string; account: string | null; ether: string | null; error?: string };
};

const REACH_TEXT: Record<string, string> = {
  reachable: 'reachable — peers have connected to us',
  unknown: 'unknown — no incoming connection yet',
  'local-only': 'this machine only (bound to loopback)',
};

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function uptime(s: unknown): string {
  if (typeof s !== 'number') return '—';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}

export function NetworkView() {
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState<string>();
  const live = useLive();
  const peer = useBrowserPeer();
  const member = isMember(useAuth());

  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const h = await api.health();
        if (!stop) {
          setHealth(h);
          setError(undefined);
        }
      } catch (err) {
        if (!stop) setError((err as Error).message);
      }
    };
    void load();
    const t = setInterval(load, 2000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, []);

  const down = live.torrents.reduce((n, t) => n + (t.downloadSpeed || 0), 0);
  const up = live.torrents.reduce((n, t) => n + (t.uploadSpeed || 0), 0);
  const dhtEnabled = health?.dhtEnabled !== false;
  const dhtNodes = typeof health?.dhtNodes === 'number' ? health.dhtNodes : undefined;
  const ports = (health?.ports ?? {}) as Ports;
  const tracker = (health?.tracker ?? null) as TrackerUrls;
  const reach = (health?.reachability ?? {}) as Reach;
  const byTransport = (health?.peersByTransport ?? {}) as { tcp?: number; webrtc?: number };
  const chain = health?.chain as Chain | undefined;
  const extra = health ? Object.entries(health).filter(([k, v]) => !KNOWN.has(k) && (typeof v !== 'object' || v === null)) : [];
  const nested = health ? Object.entries(health).filter(([k, v]) => !KNOWN.has(k) && typeof v === 'object' && v !== null) : [];

  return (
    <section className="network-view" aria-label="Network health" data-testid="network-health">
      <div className="page-head">
        <div>
          <h1>Network</h1>
          <p className="muted small">How this node and this browser tab are connected.</p>
        </div>
      </div>
      {error && <div className="alert alert-error">Cannot reach the node: {error}</div>}

      <div className="cards">
        <div className="card">
          <h2>
            <span className={`dot ${health ? 'dot-ok' : 'dot-bad'}`} /> BitTorrent node
          </h2>
          <div className="stat-grid">
            <Stat label="Listening port (TCP)" value={fmt(health?.bittorrentPort ?? ports.bittorrent ?? health?.port)} testId="health-port" />
            <Stat label="Connected peers" value={fmt(health?.peers)} testId="health-peers" />
            <Stat label="TCP / WebRTC" value={`${fmt(byTransport.tcp ?? 0)} / ${fmt(byTransport.webrtc ?? 0)}`} />
            <Stat label="Torrents" value={fmt(health?.torrents ?? live.torrents.length)} />
            <Stat label="Download" value={formatSpeed(down)} />
            <Stat label="Upload" value={formatSpeed(up)} />
            {health?.uptimeSeconds !== undefined && <Stat label="Uptime" value={uptime(health.uptimeSeconds)} />}
            {typeof health?.version === 'string' && <Stat label="Version" value={health.version} />}
          </div>
          {reach.status && (
            <p className="small">
              <span className={`dot ${reach.status === 'reachable' ? 'dot-ok' : reach.status === 'local-only' ? 'dot-off' : 'dot-warn'}`} /> Reachability:{' '}
              <span data-testid="health-reachability">{REACH_TEXT[reach.status] ?? reach.status}</span>
              {reach.bittorrentHost ? <span className="muted"> · bound to {reach.bittorrentHost}</span> : null}
            </p>
          )}
        </div>

        {member && <ReachabilityCard />}

        <div className="card">
          <h2>
            <span className={`dot ${!dhtEnabled ? 'dot-off' : (dhtNodes ?? 0) > 0 ? 'dot-ok' : 'dot-warn'}`} /> DHT
          </h2>
          <div className="stat-grid">
            <Stat label="Status" value={!dhtEnabled ? 'off' : (dhtNodes ?? 0) > 0 ? 'connected' : 'bootstrapping'} testId="health-dht-status" />
            <Stat label="Routing table nodes" value={fmt(dhtNodes)} testId="health-dht-nodes" />
            {health?.dhtPort !== undefined && <Stat label="UDP port" value={fmt(health.dhtPort)} />}
          </div>
        </div>

        <div className="card">
          <h2>Ports &amp; tracker</h2>
          <dl className="kv">
            <dt>Web / API</dt>
            <dd className="num">{fmt(ports.http ?? (location.port || null))}</dd>
            <dt>BitTorrent (TCP)</dt>
            <dd className="num">{fmt(ports.bittorrent ?? health?.bittorrentPort)}</dd>
            <dt>DHT (UDP)</dt>
            <dd className="num">{fmt(ports.dht ?? health?.dhtPort)}</dd>
            <dt>Tracker</dt>
            <dd className="num">{tracker ? `HTTP ${fmt(ports.trackerHttp)} · UDP ${fmt(ports.trackerUdp)}` : 'off'}</dd>
            {tracker?.ws && (
              <>
                <dt>WebRTC tracker</dt>
                <dd className="mono small path" data-testid="health-ws-tracker">{breakAtSlashes(tracker.ws)}</dd>
              </>
            )}
            {typeof health?.downloadDir === 'string' && (
              <>
                <dt>Downloads</dt>
                <dd className="mono small path">{breakAtSlashes(health.downloadDir)}</dd>
              </>
            )}
          </dl>
        </div>

        {chain && (
          <div className="card" data-testid="health-chain">
            <h2>
              <span className={`dot ${chain.state === 'running' ? 'dot-ok' : chain.state === 'error' ? 'dot-bad' : chain.state === 'off' ? 'dot-off' : 'dot-warn'}`} /> Chain
            </h2>
            {chain.state === 'running' ? (
              <>
                <div className="stat-grid">
                  <Stat label="Chain" value={chain.embedded ? 'embedded dev chain' : 'external'} testId="health-chain-kind" />
                  <Stat label="Chain id" value={fmt(chain.chainId)} testId="health-chain-id" />
                  <Stat label="Block" value={fmt(chain.block)} testId="health-chain-block" />
                  <Stat label="ETH (gas)" value={units18(chain.balances?.ether)} testId="health-chain-ether" />
                  <Stat label="SEED earned" value={units18(chain.balances?.token)} testId="health-chain-token" />
                </div>
                <dl className="kv">
                  <dt>Account</dt>
                  <dd className="mono small wrap" data-testid="health-chain-account">{chain.account}</dd>
                  {chain.signer && (
                    <>
                      <dt>Gas paid by</dt>
                      <dd className="mono small wrap" data-testid="health-chain-signer">
                        {chain.signer.account
                          ? `${chain.signer.account} (external signer, ${units18(chain.signer.ether ?? '0')} ETH)`
                          : `external signer ${chain.signer.url}: ${chain.signer.error ?? 'no account'}`}
                      </dd>
                    </>
                  )}
                  {!chain.embedded && (
                    <>
                      <dt>RPC</dt>
                      <dd className="mono small path">{chain.rpcUrl}</dd>
                    </>
                  )}
                  <dt>Registry</dt>
                  <dd className="mono small wrap">{chain.contracts?.registry}</dd>
                  <dt>Token</dt>
                  <dd className="mono small wrap">{chain.contracts?.token}</dd>
                  <dt>Reward pool</dt>
                  <dd className="mono small wrap">{chain.contracts?.pool}</dd>
                </dl>
              </>
            ) : (
              <p className="small" data-testid="health-chain-state">
                {chain.state === 'off' ? 'off (started with --no-chain)' : chain.state === 'starting' ? 'starting…' : `not running: ${chain.error}`}
              </p>
            )}
          </div>
        )}

        <div className="card">
          <h2>
            <span className={`dot ${live.connected ? 'dot-ok' : 'dot-bad'}`} /> Live updates
          </h2>
          <div className="stat-grid">
            <Stat label="socket.io" value={!member ? 'members only' : live.connected ? 'connected' : 'reconnecting (polling)'} testId="health-socket" />
            <Stat label="Page origin" value={location.host} />
          </div>
        </div>

        <div className="card">
          <h2>
            <span className={`dot ${peer.status === 'ready' ? 'dot-ok' : peer.status === 'unavailable' ? 'dot-bad' : 'dot-off'}`} /> This browser
          </h2>
          <div className="stat-grid">
            <Stat label="In-browser peer" value={peer.status === 'idle' ? 'not started' : peer.status} testId="health-browser-peer" />
            <Stat label="WebRTC" value={typeof RTCPeerConnection === 'function' ? 'supported' : 'not supported'} />
            <Stat label="Torrents in this tab" value={String(peer.torrents.length)} />
            <Stat label="WebRTC peers" value={String(peer.torrents.reduce((n, t) => n + t.peers, 0))} />
            <Stat label="Trackers" value={peer.trackers.length > 0 ? peer.trackers.join(', ') : '—'} />
            {peer.storage && <Stat label="Site storage used (app cache, keys, chat)" value={`${formatBytes(peer.storage.usage)} of ${formatBytes(peer.storage.quota)}`} />}
          </div>
          {/* What is true (issue 44 item 8): the storage figure is not where in-tab torrents live. */}
          <p className="muted small" data-testid="tab-torrents-memory">
            Torrents in this tab are held in its memory, not in the browser’s storage: reloading or closing the tab ends them. To keep sharing, add them to the node.
          </p>
          {peer.error && <div className="alert alert-error">{peer.error}</div>}
        </div>

        {health && <OnionCard onion={(health as { onion?: OnionStatus | null }).onion} directories={relayDirectories(health)} />}

        <TabRelayCard available={health ? relayDirectories(health).length > 0 : undefined} />

        {(extra.length > 0 || nested.length > 0) && (
          <div className="card">
            <h2>More</h2>
            <dl className="kv">
              {extra.map(([k, v]) => (
                <div key={k} className="kv-row">
                  <dt>{k}</dt>
                  <dd>{fmt(v)}</dd>
                </div>
              ))}
              {nested.map(([k, v]) => (
                <div key={k} className="kv-row">
                  <dt>{k}</dt>
                  <dd className="mono small wrap">{JSON.stringify(v)}</dd>
                </div>
              ))}
            </dl>
          </div>
        )}
      </div>
    </section>
  );
}

/** A URL or path that may wrap after each "/" (and only mid-name when a name alone is too long). */
function breakAtSlashes(text: string) {
  return text.split(/(?<=\/)/).map((part, i) => (
    <Fragment key={i}>
      {i > 0 && <wbr />}
      {part}
    </Fragment>
  ));
}

function relayDirectories(h: Health): string[] {
  const pd = (h as { privateDiscovery?: { directories?: unknown } | null }).privateDiscovery;
  return Array.isArray(pd?.directories) ? pd.directories.filter((d): d is string => typeof d === 'string') : [];
}
