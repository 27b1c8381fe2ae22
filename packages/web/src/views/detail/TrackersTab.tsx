// The detail panel's Trackers tab: each tracker's status and last reply or error, then what the
// torrent did to find peers (the node's discovery report, when it sends one): the DHT, and the last
// peers tried with where they came from and what happened.
import type { DiscoveryReport as Report } from '@cascade/shapes';
import type { TorrentDetailView } from '../../api/api.ts';
import { Empty } from '../../components/ui.tsx';
import { formatDate } from '../../format/format.ts';

// What an older node leaves out of its discovery report is absent here too.
type Discovery = Partial<Report>;

function discoveryOf(detail: TorrentDetailView): Discovery | undefined {
  const d = detail.raw?.discovery;
  return d && typeof d === 'object' ? (d as Discovery) : undefined;
}

export function TrackersTab({ detail }: { detail: TorrentDetailView }) {
  const discovery = discoveryOf(detail);
  const trackers = detail.trackers;
  return (
    <div>
      {trackers.length === 0 ? (
        <Empty title="No trackers">This torrent finds peers through the DHT, PEX and peers you add.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="trackers-table">
            <thead>
              <tr>
                <th>URL</th>
                <th>Status</th>
                <th className="r">Peers</th>
              </tr>
            </thead>
            <tbody>
              {trackers.map((t) => (
                <tr key={t.url} data-testid="tracker-row">
                  <td className="mono wrap">{t.url}</td>
                  <td>
                    <span className={`badge badge-tracker-${t.status}`}>{t.status}</span>
                    {t.message && <div className="muted small">{t.message}</div>}
                    {t.lastReplyAt ? <div className="muted small">last reply {formatDate(t.lastReplyAt)}</div> : null}
                    {t.lastError && t.lastError !== t.message ? (
                      <div className="muted small">
                        last error{t.lastErrorAt ? ` ${formatDate(t.lastErrorAt)}` : ''}: {t.lastError}
                      </div>
                    ) : null}
                  </td>
                  <td className="r num">{t.peers}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {discovery && <DiscoveryReport d={discovery} />}
    </div>
  );
}

function DiscoveryReport({ d }: { d: Discovery }) {
  const tried = [...(d.peersTried ?? [])].reverse();
  return (
    <div className="discovery" data-testid="discovery">
      <h3 className="small-heading">DHT</h3>
      <p className="muted small" data-testid="discovery-dht">
        {!d.dht || !d.dht.enabled
          ? 'Off on this node.'
          : `${d.dht.nodes} nodes known · ${d.dht.lookups} lookups · ${d.dht.peersFound} peers found${d.dht.lastLookupAt ? ` · last ${formatDate(d.dht.lastLookupAt)}` : ''}`}
      </p>
      <h3 className="small-heading">Peers tried</h3>
      {tried.length === 0 ? (
        <p className="muted small">None yet: no tracker, DHT node or peer has named one.</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="peers-tried">
            <thead>
              <tr>
                <th>Peer</th>
                <th>From</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {tried.map((a, i) => (
                <tr key={`${a.address}-${a.at}-${i}`}>
                  <td className="mono">{a.address}</td>
                  <td className="small wrap">{a.source}</td>
                  <td className="small" title={formatDate(a.at)}>
                    {a.result}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
