// The methods a running node answers on its control endpoint. Each takes JSON params and returns
// JSON; CliErrors keep their exit code across the wire so `cascade pause nope` exits like offline.

import { resolve as resolvePath } from 'node:path';
import { NodeError, InvalidInput, errorMessage } from '@cascade/node-state/errors';
import type { ListEntry } from '../listing/listing.ts';
import { summaryCache } from '../listing/summary-cache.ts';
import type { RpcHandlers, RpcParams } from './control.ts';
import type { InfoHashResolver, NodeLog, TorrentAdder, TorrentVerbs } from './node-parts.ts';
import type { DetailNode } from '../listing/torrent-view.ts';
import type { CacheNode } from '../listing/summary-cache.ts';
import type { BulkNode } from '../queue/bulk.ts';
import type { NodeModel } from '../model/index.ts';
import type { PeerLedger } from '../peers/peer-ledger.ts';
import type { IdentifiedPeers } from '../peers/identified-peers.ts';
import type { NodePrivateShares } from './node-private.ts';
import type { NodeContentIds } from './content-ids.ts';

/** Everything the control RPCs reach: the verbs, adding, the listing and details, bulk actions,
 *  the model, health, the ledger, identified peers, private shares' keys and content search. */
export type ApiNode = DetailNode & CacheNode & BulkNode & InfoHashResolver & TorrentAdder & TorrentVerbs & {
  readonly model: NodeModel;
  readonly ledger: Pick<PeerLedger, 'pendingCount'>;
  readonly identified: IdentifiedPeers;
  readonly privateShares: Pick<NodePrivateShares, 'useKey' | 'keys'>;
  readonly content: Pick<NodeContentIds, 'search'>;
  readonly out: NodeLog;
  readonly cluster: Pick<NodeCluster, 'replaceRemoved'> | undefined;
  health(): Record<string, unknown>;
};
import type { TorrentHandle, TorrentSource } from './engine.ts';
import { copyForAdd, type NodeCluster } from './node-cluster.ts';
import type { ListQuery } from '../listing/list-query.ts';
import { modelRpcs } from './model-rpc.ts';
import { moveOne, runBulk } from '../queue/bulk.ts';
import { announceNow } from './announce-now.ts';

const ADD_REPLY_MS = 5000;

function str(p: RpcParams, key: string): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '') throw new InvalidInput(`missing "${key}"`);
  return v;
}

function optStr(p: RpcParams, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function listQueryOf(p: RpcParams): ListQuery {
  const q: ListQuery = {};
  for (const k of ['category', 'tag', 'state', 'tracker', 'search', 'sort'] as const) {
    const v = p[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new InvalidInput(`"${k}" must be a string`);
    q[k] = v;
  }
  if (p.order !== undefined && p.order !== 'asc' && p.order !== 'desc') throw new InvalidInput('"order" must be "asc" or "desc"');
  if (p.order !== undefined) q.order = p.order;
  // A page of a big library (cascade list --limit): only those rows cross the wire; `total` says how many matched.
  for (const k of ['offset', 'limit'] as const) {
    const v = p[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidInput(`"${k}" must be a whole number >= 0`);
    q[k] = v;
  }
  return q;
}

export function createNodeApi(node: ApiNode): RpcHandlers {
  const { session, db } = node;

  const loaded = (arg: string): TorrentHandle => {
    const ih = node.resolve(arg);
    const t = session.get(ih);
    if (!t) throw new NodeError('failed', `torrent ${ih} is in the library but not loaded in the running node`);
    return t;
  };

  const entries = (): ListEntry[] => {
    const cache = summaryCache(node);
    cache.refresh();
    return cache.rows();
  };

  /** The torrents a verb with an optional infohash applies to: that one, or all loaded. */
  const selected = (p: RpcParams): TorrentHandle[] => {
    const arg = optStr(p, 'infoHash');
    return arg ? [loaded(arg)] : session.list();
  };

  return {
    ping: () => ({ pid: process.pid, port: session.port }),

    health: () => node.health(),

    // Optional filters and sort, as GET /api/torrents takes them (category, tag, state, tracker, search, sort, order).
    list: (p) => {
      const cache = summaryCache(node);
      cache.refresh();
      return { online: true, ...cache.query(listQueryOf(p)) };
    },

    search: (p) => {
      const text = (optStr(p, 'text') ?? '').toLowerCase();
      const stored = new Set(db.searchTorrents(text).map((r) => r.infoHash));
      // Live torrents not (yet) in the DB are matched here by name/infohash the same way.
      const hit = (e: ListEntry) =>
        stored.has(e.infoHash) || e.infoHash.startsWith(text) || (e.name ?? '').toLowerCase().includes(text);
      return { online: true, torrents: entries().filter(hit) };
    },

    // Local library, then the DHT's records (GET /api/search): rows of SearchRow.
    find: async (p) => ({ rows: await node.content.search(optStr(p, 'text') ?? '') }),

    add: async (p) => {
      // No savePath: the node decides (the category's save path, else the download dir setting).
      const given = optStr(p, 'savePath');
      const savePath = given === undefined ? undefined : resolvePath(given);
      // The client sends the infohash it parsed, so a repeat add is answered without touching the session.
      const hint = optStr(p, 'infoHash');
      const peers = Array.isArray(p.peers) ? p.peers.filter((x): x is string => typeof x === 'string') : [];
      // A private share's key from a link (`cascade add LINK`): kept by the node, never given to the engine.
      const keyText = optStr(p, 'shareKey');
      const shareKey = keyText === undefined ? undefined : new Uint8Array(Buffer.from(keyText, 'base64url'));
      if (shareKey && !hint) throw new InvalidInput('a link\'s key comes with the infohash it is for');
      if (shareKey && shareKey.length !== 32) throw new InvalidInput('the key in this link (#k=…) is not 32 bytes: the link was cut short or changed');
      // After the checks that throw: a copy dropped for this add is released once the add settled.
      const { existing: already, release } = hint ? await copyForAdd(node, hint.toLowerCase()) : { existing: undefined, release: undefined };
      if (already) {
        await node.addPeers(already, peers);
        if (shareKey) await node.privateShares.useKey(already, shareKey);
        const s = already.stats();
        const savePath = db.getTorrent(already.infoHashHex)?.savePath ?? null;
        return { infoHash: already.infoHashHex, name: already.metainfo?.name ?? s.name ?? null, state: s.state, savePath, existing: true };
      }
      const torrentB64 = optStr(p, 'torrent');
      const source: TorrentSource = torrentB64 ? new Uint8Array(Buffer.from(torrentB64, 'base64')) : str(p, 'source');
      // Checked before anything starts, so a bad option is the verb's error, not a background failure.
      const input = { savePath, category: p.category, tags: p.tags, paused: p.paused };
      let plan: Awaited<ReturnType<typeof node.model.planAdd>>;
      let adding: Promise<TorrentHandle>;
      try {
        plan = await node.model.planAdd(input);
        // session.add resolves only after checking existing data, which can take minutes for a big
        // torrent; answer after a few seconds and let the add finish in the background. addWith plans
        // again from the same input: handing it the plan would check the default download dir as a
        // given save path (refused inside the state dir, where it is by default).
        if (shareKey && hint) await node.privateShares.keys.set(hint.toLowerCase(), shareKey, 'link');
        const hidden = typeof p.privateDiscovery === 'boolean' ? { privateDiscovery: p.privateDiscovery } : {};
        if (hidden.privateDiscovery && !node.onion) throw new InvalidInput('private discovery needs relays: the running node has no --directory');
        const storage = optStr(p, 'storage');
        adding = node.addWith(source, input, { ...(peers.length > 0 ? { peers } : {}), ...hidden, ...(storage !== undefined ? { storage } : {}) });
      } catch (err) {
        release?.();
        throw err;
      }
      if (release) adding.then(release, release);
      if (shareKey && hint) adding.catch(() => node.privateShares.keys.delete(hint.toLowerCase()).catch(() => {}));
      let timer: NodeJS.Timeout | undefined;
      const later = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ADD_REPLY_MS)));
      const t = await Promise.race([adding, later]).finally(() => clearTimeout(timer));
      if (!t) {
        adding.catch((err) => node.out.note(`adding ${hint ?? 'torrent'} failed: ${errorMessage(err)}`));
        return { infoHash: hint ?? null, name: null, state: 'checking', savePath: plan.savePath };
      }
      const s = t.stats();
      return { infoHash: t.infoHashHex, name: t.metainfo?.name ?? s.name ?? null, state: s.state, savePath: plan.savePath };
    },

    peers: (p) => ({
      online: true,
      torrents: selected(p).map((t) => ({ infoHash: t.infoHashHex, name: t.stats().name ?? null, peers: node.identified.decorate(t.infoHashHex, t.peers()) })),
    }),

    connect: async (p) => {
      const t = loaded(str(p, 'infoHash'));
      const address = str(p, 'address');
      await node.addPeers(t, [address]);
      return { infoHash: t.infoHashHex, address };
    },

    // Says what was done (announce-now.ts), waiting a little for the trackers' answers.
    announce: (p) => announceNow(node, selected(p)),

    pause: async (p) => {
      const ih = node.resolve(str(p, 'infoHash'));
      await node.pause(ih);
      return { infoHash: ih, state: node.stateOf(ih) };
    },

    resume: async (p) => {
      const ih = node.resolve(str(p, 'infoHash'));
      await node.resume(ih);
      return { infoHash: ih, state: node.stateOf(ih) };
    },

    recheck: (p) => {
      const ih = node.resolve(str(p, 'infoHash'));
      return { infoHash: ih, state: node.recheck(ih) };
    },

    remove: async (p) => {
      const ih = node.resolve(str(p, 'infoHash'));
      await node.remove(ih, p.deleteData === true);
      return { infoHash: ih, removed: true, deletedData: p.deleteData === true };
    },

    ...modelRpcs(node),

    /** params: {infoHash (full or a unique prefix), move: up|down|top|bottom} → {infoHash, queuePosition}. */
    'queue.move': (p) => moveOne(node, node.resolve(str(p, 'infoHash')), p.move),

    /** params: as POST /api/torrents/bulk → {results}. */
    bulk: (p) => runBulk(node, p),

    debug: async () => ({
      health: node.health(),
      torrents: session.list().map((t) => ({ stats: t.stats(), trackers: t.trackers(), peers: t.peers() })),
      db: { path: db.path, ...(await db.counts()), pendingPeerDeltas: node.ledger.pendingCount },
      topPeers: await db.listPeers(20),
    }),
  };
}
