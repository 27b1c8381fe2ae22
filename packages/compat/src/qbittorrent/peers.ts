// sync/torrentPeers (qBittorrent's SyncController::torrentPeersAction): one torrent's connected
// peers keyed "ip:port", a full update first, then only what changed after `rid` (changed fields,
// new peers whole, `peers_removed`), as sync/maindata does; and the log group, which Cascade keeps
// no journal for.
import type { FileRow, PeerRow } from '../ops.ts';
import { qbittorrentFlags } from '../shared-views/peer-flags.ts';
import { type ActionContext, type ActionSpec, requireParams } from './http.ts';
import { torrentInfo } from './torrents-read.ts';

type Obj = Record<string, string | number | boolean>;

/** Answers kept per session and torrent to diff against (the last one and the one before). */
const KEPT = 2;


/** qBittorrent's peer_id_client: the peer id's first 8 bytes when printable ASCII, "Unknown" when
 *  not, '' before the id is known. */
function peerIdClient(hex: string | undefined): string {
  if (!hex || /^0*$/.test(hex)) return '';
  const bytes = Buffer.from(hex.slice(0, 16), 'hex');
  return bytes.every((c) => c >= 32 && c <= 126) ? bytes.toString('latin1') : 'Unknown';
}

function peerObject(p: PeerRow, files: FileRow[] | null): [string, Obj] {
  // qBittorrent's PeerInfo::determineFlags: letters each followed by a space, and "X = meaning" lines.
  const { flags, flags_desc } = qbittorrentFlags(p);
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(p.address);
  const ip = m ? m[1]! : p.address;
  const port = m ? Number(m[2]) : 0;
  const connection = p.transport === 'webrtc' ? 'WebRTC' : p.transport === 'webseed' ? 'Web' : p.transport === 'utp' ? 'μTP' : 'BT';
  // The files of the piece being downloaded from it, by metainfo index, newline-separated (as
  // torrentPeersAction joins filesForPiece); '' when nothing is being asked of it.
  const pathOf = new Map((files ?? []).map((f) => [f.index, f.path]));
  const downloading = (p.downloadingFiles ?? []).map((i) => pathOf.get(i)).filter((x): x is string => x !== undefined);
  return [
    m ? `${ip.includes(':') ? `[${ip}]` : ip}:${port}` : p.address,
    {
      client: p.client ?? '',
      connection,
      country: '',
      country_code: '',
      dl_speed: Math.round(p.downloadSpeed),
      downloaded: p.downloaded,
      files: downloading.join('\n'),
      flags,
      flags_desc,
      ip,
      peer_id_client: peerIdClient(p.peerId),
      port,
      progress: p.progress,
      relevance: p.relevance ?? 0,
      up_speed: Math.round(p.uploadSpeed),
      uploaded: p.uploaded,
    },
  ];
}

/** Torrents per session whose answers are kept: the WebUI shows one torrent's peers at a time, so
 *  a session open for weeks does not keep the peers of every torrent it ever showed (issue 63). */
export const KEPT_TORRENTS = 8;

/** One session's last answers per torrent (the least recently asked torrent goes first). */
export class PeerAnswers {
  readonly #byTorrent = new Map<string, { last: number; byRid: Map<number, Map<string, Obj>> }>();

  /** Keeps `now` as the torrent's next answer: its rid, and the answer `asked` names (if kept). */
  next(infoHash: string, asked: number, now: Map<string, Obj>): { rid: number; prev: Map<string, Obj> | undefined } {
    const state = this.#byTorrent.get(infoHash) ?? { last: 0, byRid: new Map() };
    this.#byTorrent.delete(infoHash);
    this.#byTorrent.set(infoHash, state);
    while (this.#byTorrent.size > KEPT_TORRENTS) this.#byTorrent.delete(this.#byTorrent.keys().next().value as string);
    const prev = asked > 0 ? state.byRid.get(asked) : undefined;
    const rid = (state.last % 1_000_000) + 1;
    state.last = rid;
    state.byRid.set(rid, now);
    while (state.byRid.size > KEPT) state.byRid.delete(state.byRid.keys().next().value as number);
    return { rid, prev };
  }

  get size(): number {
    return this.#byTorrent.size;
  }
}

const sessions = new WeakMap<object, PeerAnswers>();

function torrentPeers(ctx: ActionContext): object {
  requireParams(ctx, 'hash');
  const t = torrentInfo(ctx);
  const now = new Map(t.peerList.filter((p) => p.transport !== 'webseed').map((p) => peerObject(p, t.files)));
  let answers = sessions.get(ctx.session);
  if (!answers) sessions.set(ctx.session, (answers = new PeerAnswers()));
  const { rid, prev } = answers.next(t.infoHash, Number.parseInt(ctx.params.get('rid') ?? '0', 10), now);
  if (!prev) return { full_update: true, peers: Object.fromEntries(now), rid, show_flags: true };
  const peers: Record<string, Obj> = {};
  for (const [key, p] of now) {
    const before = prev.get(key);
    if (!before) peers[key] = p;
    else {
      const changed = Object.fromEntries(Object.entries(p).filter(([k, v]) => before[k] !== v));
      if (Object.keys(changed).length > 0) peers[key] = changed;
    }
  }
  const removed = [...prev.keys()].filter((k) => !now.has(k));
  return { rid, show_flags: true, ...(Object.keys(peers).length > 0 ? { peers } : {}), ...(removed.length > 0 ? { peers_removed: removed } : {}) };
}

export const peerSyncActions: Record<string, ActionSpec> = {
  torrentPeers: { method: 'any', run: torrentPeers },
};

// Cascade keeps no in-memory journal of the node's messages (they go to its output and the
// discovery report of each torrent), nor of blocked peers: both logs answer an empty list, which
// is what qBittorrent answers when nothing is newer than last_known_id.
export const logActions: Record<string, ActionSpec> = {
  main: { method: 'any', run: () => [] },
  peers: { method: 'any', run: () => [] },
};

/** transfer/banPeers: qBittorrent answers 200 in all cases. Cascade bans a peer per torrent for
 *  bad data, but has no node-wide ban list to add an address to: the request is checked, not kept. */
export const banPeers: ActionSpec = {
  method: 'POST',
  run: (ctx) => (requireParams(ctx, 'peers'), undefined),
};
