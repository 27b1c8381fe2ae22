// sync/torrentPeers (qBittorrent's SyncController::torrentPeersAction): one torrent's connected
// peers keyed "ip:port", a full update first, then only what changed after `rid` (changed fields,
// new peers whole, `peers_removed`), as sync/maindata does; and the log group, which Cascade keeps
// no journal for.
import type { PeerRow } from '../ops.ts';
import { peerFlags } from '../shared-views/peer-flags.ts';
import { type ActionContext, type ActionSpec, requireParams } from './http.ts';
import { torrentInfo } from './torrents-read.ts';

type Obj = Record<string, string | number | boolean>;

/** Answers kept per session and torrent to diff against (the last one and the one before). */
const KEPT = 2;


function peerObject(p: PeerRow): [string, Obj] {
  // qBittorrent's PeerInfo::determineFlags: letters each followed by a space, and "X = meaning" lines.
  const flags = peerFlags(p, 'qbittorrent');
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(p.address);
  const ip = m ? m[1]! : p.address;
  const port = m ? Number(m[2]) : 0;
  const connection = p.transport === 'webrtc' ? 'WebRTC' : p.transport === 'webseed' ? 'Web seed' : p.transport === 'utp' ? 'μTP' : 'BT';
  return [
    m ? `${ip.includes(':') ? `[${ip}]` : ip}:${port}` : p.address,
    {
      client: p.client ?? '',
      connection,
      country: '',
      country_code: '',
      dl_speed: Math.round(p.downloadSpeed),
      downloaded: p.downloaded,
      files: '',
      flags: flags.map((f) => f.letter).join(' '),
      flags_desc: flags.map((f) => `${f.letter} = ${f.meaning}`).join('\n'),
      ip,
      port,
      progress: p.progress,
      relevance: 0,
      up_speed: Math.round(p.uploadSpeed),
      uploaded: p.uploaded,
    },
  ];
}

interface PeerSnapshots {
  last: number;
  byRid: Map<number, Map<string, Obj>>;
}

const sessions = new WeakMap<object, Map<string, PeerSnapshots>>();

function torrentPeers(ctx: ActionContext): object {
  requireParams(ctx, 'hash');
  const t = torrentInfo(ctx);
  const now = new Map(t.peerList.filter((p) => p.transport !== 'webseed').map(peerObject));
  let perTorrent = sessions.get(ctx.session);
  if (!perTorrent) sessions.set(ctx.session, (perTorrent = new Map()));
  const state = perTorrent.get(t.infoHash) ?? { last: 0, byRid: new Map() };
  perTorrent.set(t.infoHash, state);
  const asked = Number.parseInt(ctx.params.get('rid') ?? '0', 10);
  const prev = asked > 0 ? state.byRid.get(asked) : undefined;
  const rid = (state.last % 1_000_000) + 1;
  state.last = rid;
  state.byRid.set(rid, now);
  while (state.byRid.size > KEPT) state.byRid.delete(state.byRid.keys().next().value as number);
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
