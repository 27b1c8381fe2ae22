// The detail panel's Peers tab: the swarm as a client shows it. Distributed copies and the piece map
// (this node's pieces, and how many connected peers hold each of the others), then each peer with
// who chokes whom and who wants what, its rates, its progress and the client it runs.
import { useEffect, useState } from 'react';
import type { PeerView, PieceMap } from '@cascade/shapes';
import { distributedCopies, peerFlags } from '@cascade/compat/swarm-view';
import { api, type TorrentDetailView } from '../../api/api.ts';
import { Empty, TransportBadge } from '../../components/ui.tsx';
import { formatBytes, formatPercent, formatSpeed } from '../../format/format.ts';
import { shortDid } from '../../format/short-id.ts';

/** Cells in the piece map: each stands for a run of pieces when there are more. */
const MAP_CELLS = 160;
const MAP_REFRESH_MS = 3_000;

/** WebRTC peers have no IP:port; they are named by peer id, which is long: keep its ends. */
export function shortAddress(a: string): string {
  const m = /^(webrtc:)([0-9a-f]{16,})$/i.exec(a);
  return m ? `${m[1]}${m[2]!.slice(0, 8)}…${m[2]!.slice(-6)}` : a;
}

/** Who chokes whom and who wants what, in qBittorrent's letters (the same function as the
 *  qBittorrent API's flags) with words beside them. */
export function peerState(p: PeerView): { letters: string; words: string[]; lines: string[] } {
  const flags = peerFlags(p, 'qbittorrent');
  if (flags.length === 0) return { letters: '', words: ['neither side wants anything'], lines: ['neither side wants anything'] };
  return { letters: flags.map((f) => f.letter).join(' '), words: flags.map((f) => f.words), lines: flags.map((f) => `${f.letter}: ${f.words}`) };
}

function usePieceMap(infoHash: string, enabled: boolean): PieceMap | undefined {
  const [map, setMap] = useState<PieceMap>();
  useEffect(() => {
    if (!enabled) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () => {
      api.pieces(infoHash).then((m) => !stop && setMap(m), () => undefined).finally(() => {
        if (!stop) timer = setTimeout(load, MAP_REFRESH_MS);
      });
    };
    load();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [infoHash, enabled]);
  return map;
}

interface Cell {
  have: number;
  /** Fewest peers holding any missing piece of the run (Infinity when it has them all). */
  rarest: number;
  first: number;
  last: number;
}

function cellsOf(map: PieceMap): Cell[] {
  const n = map.pieceCount;
  const cells = Math.min(MAP_CELLS, n);
  const out: Cell[] = [];
  for (let c = 0; c < cells; c++) {
    const first = Math.floor((c * n) / cells);
    const last = Math.max(first, Math.floor(((c + 1) * n) / cells) - 1);
    let have = 0, rarest = Infinity;
    for (let i = first; i <= last; i++) {
      if (map.states[i] === '2') have++;
      else rarest = Math.min(rarest, map.availability[i] ?? 0);
    }
    out.push({ have, rarest, first, last });
  }
  return out;
}

function cellClass(c: Cell): string {
  const size = c.last - c.first + 1;
  if (c.have === size) return 'piece-have';
  if (c.rarest === 0) return 'piece-none';
  return c.rarest === 1 ? 'piece-rare' : 'piece-common';
}

function PieceMapView({ map }: { map: PieceMap }) {
  const cells = cellsOf(map);
  const missingNowhere = Array.from(map.states).filter((s, i) => s !== '2' && (map.availability[i] ?? 0) === 0).length;
  return (
    <div className="piece-map-wrap">
      <div className="piece-map" data-testid="swarm-piece-map" data-pieces={map.pieceCount} role="img"
        aria-label={`Piece map: ${map.pieceCount} pieces, ${missingNowhere} missing here and held by no connected peer`}>
        {cells.map((c) => (
          <span key={c.first} className={`piece-cell ${cellClass(c)}`}
            title={`pieces ${c.first}–${c.last}: ${c.have} of ${c.last - c.first + 1} here${Number.isFinite(c.rarest) ? `; the rarest missing one is held by ${c.rarest} peer${c.rarest === 1 ? '' : 's'}` : ''}`} />
        ))}
      </div>
      <div className="muted small piece-legend">
        <span className="piece-cell piece-have" /> here <span className="piece-cell piece-common" /> held by 2+ peers{' '}
        <span className="piece-cell piece-rare" /> by 1 <span className="piece-cell piece-none" /> by none
        {missingNowhere > 0 && <span data-testid="swarm-missing"> · {missingNowhere} missing piece{missingNowhere === 1 ? '' : 's'} no connected peer has</span>}
      </div>
    </div>
  );
}

export function PeersTab({ detail }: { detail: TorrentDetailView }) {
  const peers = detail.peersList ?? [];
  const map = usePieceMap(detail.infoHashHex, typeof detail.pieceCount === 'number' && detail.pieceCount > 0);
  // Counted from the piece map as libtorrent counts it (ourselves included): the number the
  // qBittorrent API gives as availability.
  const copies = map ? distributedCopies(map.states, map.availability) : null;
  return (
    <div>
      <div className="swarm-summary" data-testid="swarm-summary">
        <span title="Distributed copies among the connected peers and this node: whole copies every piece has, plus the share of pieces held by more">
          Availability <strong data-testid="swarm-copies">{copies === null ? '—' : copies.toFixed(3)}</strong>
        </span>
        <span>
          {peers.filter((p) => p.transport !== 'webseed').length} peers, {peers.filter((p) => p.progress >= 1).length} with everything
        </span>
      </div>
      {map && map.pieceCount > 0 && <PieceMapView map={map} />}
      {peers.length === 0 ? (
        <Empty title="No connected peers">Peers show up here as trackers, the DHT and PEX find them.</Empty>
      ) : (
        <PeerTable peers={peers} />
      )}
    </div>
  );
}

function PeerTable({ peers }: { peers: PeerView[] }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid="peers-table">
        <thead>
          <tr>
            <th>Peer</th>
            <th>Transport</th>
            <th title="qBittorrent's letters. D downloading from it · d it chokes us · U uploading to it · u we choke it · K/? unchoked but not wanted · O optimistic unchoke · S snubbed · I incoming · H/X/L from DHT/PEX/LSD · E/e encrypted · P uTP">Flags</th>
            <th className="r">Down / Up</th>
            <th className="r" title="Downloaded from it / uploaded to it">Total</th>
            <th className="r" title="Its progress, and how much of what we lack it has (relevance)">Has</th>
          </tr>
        </thead>
        <tbody>
          {peers.map((p) => {
            const st = peerState(p);
            return (
              <tr key={p.address} data-testid="peer-row" data-address={p.address}>
                <td className="clip" title={`${p.address}${p.client ? ` — ${p.client}` : ''}`}>
                  <div className="mono">{shortAddress(p.address)}</div>
                  <div className="muted small" data-testid="peer-client">{p.client || 'unknown client'}</div>
                  {p.did && <PeerIdentity did={p.did} reputation={p.reputation} account={p.account} />}
                </td>
                <td>
                  <TransportBadge transport={p.transport} relayed={p.relayed} />
                </td>
                <td data-testid="peer-state" data-am-choking={String(!!p.amChoking)} data-am-interested={String(!!p.amInterested)}
                  data-choked={String(!!p.choked)} data-interested={String(!!p.interested)} data-flags={st.letters} title={st.lines.join('\n')}>
                  <span className="mono">{st.letters || '—'}</span>
                  <div className="muted small">{st.words[0]}</div>
                </td>
                <td className="r num nowrap">
                  <div>↓ {formatSpeed(p.downloadSpeed)}</div>
                  <div className="muted">↑ {formatSpeed(p.uploadSpeed)}</div>
                </td>
                <td className="r num nowrap">
                  <div>↓ {formatBytes(p.downloaded)}</div>
                  <div className="muted">↑ {formatBytes(p.uploaded)}</div>
                </td>
                <td className="r num" data-testid="peer-progress" data-progress={String(p.progress)}>
                  <div>{formatPercent(p.progress)}</div>
                  {typeof p.relevance === 'number' && p.progress < 1 && <div className="muted small" title="Of the pieces we lack, the share it has">{formatPercent(p.relevance)} useful</div>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** A peer that proved a Cascade identity over the wire extension: its did and what this node has
 *  seen of it (reputation 0..1, from the node's own ledger; the peer's own claim is not shown). */
function PeerIdentity({ did, reputation, account }: { did: string; reputation: number | undefined; account: string | undefined }) {
  const rep = typeof reputation === 'number' && Number.isFinite(reputation) ? `rep ${reputation.toFixed(2)}` : undefined;
  return (
    <div className="peer-identity" title={`Verified Cascade identity\n${did}${account ? `\naccount ${account}` : ''}`} data-testid="peer-did" data-did={did}>
      <span className="badge badge-did">{shortDid(did)}</span>
      {rep && <span className="peer-rep"> · {rep}</span>}
    </div>
  );
}
