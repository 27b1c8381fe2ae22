// Interactive verbs against a node's state (add, list, search, peers, connect, health, announce,
// debug, pause, resume, recheck, remove). With a node running they go through its control endpoint;
// without one, those that make sense offline work on the state DB directly, and the live-only ones
// say so.

import { join, sep } from 'node:path';
import { connectControl, StateDB, errorMessage, resolveInfoHash, offlineEntry, rememberPeers, refuseOwnedFiles, otherOwners, storedFiles, deleteOwnFiles, queryEntries, type ListQuery } from '@cascade/node/verbs';
import type { ChainHealth } from '@cascade/rewards';
import type { ListEntry, NetworkStatus, OnionStatus, SearchRow } from '@cascade/shapes';
import { CliError, UsageError } from '../core/errors.ts';
import { loadEngine } from '../core/engine.ts';
import { offlineModel } from '../core/offline-model.ts';
import { describeSource } from '../download/source.ts';
import { renderEntries } from '../output/listing.ts';
import { formatBytes, formatPercent, formatSpeed, units18 } from '../output/format.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import type { PeerStats, TrackerStatus } from '../core/engine.ts';
import { NO_NODE, connectNode, openState, requireNode, short, withDb, type Verb, type VerbDeps } from './node-access.ts';

import { limits, queue, forceStart, move, settings, pieceOrderVerb } from './staples.ts';
import { category, tags } from './organise.ts';
import { namesMany, runMany, sayCount } from './many.ts';
import { register, rewards, verify } from './registry.ts';
import { cluster } from './cluster.ts';

export type { VerbDeps } from './node-access.ts';

const defaultDeps: VerbDeps = { loadEngine, connect: (dir) => connectNode(dir) };

const add: Verb = async (inv, out, node, deps) => {
  const o = inv.options;
  // A private share's link: its key (the fragment) goes to the node, never into the source.
  // Loaded here, not with the verbs: the private-shares package is most of a second of start-up.
  const { splitLink } = await import('@cascade/private-shares');
  let link: ReturnType<typeof splitLink>;
  try {
    link = splitLink(inv.positionals[0]!);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  const d = await describeSource(link.uri, deps.loadEngine);
  const shareKey = link.key && Buffer.from(link.key).toString('base64url');
  if (node) {
    // No --save-path: the node decides (its download directory), as it does for the web UI.
    const r = await node.call<{ infoHash: string; name: string | null; state: string; savePath: string | null; existing?: boolean }>('add', {
      ...(d.source instanceof Uint8Array ? { torrent: Buffer.from(d.source).toString('base64') } : { source: d.source }),
      infoHash: d.infoHash,
      ...(o.savePath !== undefined ? { savePath: o.savePath } : {}),
      ...(o.category !== undefined ? { category: o.category } : {}),
      ...(o.tags.length > 0 ? { tags: o.tags } : {}),
      peers: o.peers,
      // Only when asked: otherwise the node's startPaused setting decides.
      ...(o.paused ? { paused: true } : {}),
      ...(shareKey ? { shareKey } : {}),
      ...(o.privateDiscovery ? { privateDiscovery: true } : {}),
      ...(o.storage !== undefined ? { storage: o.storage } : {}),
    });
    out.result({ event: 'added', ...r, queued: false }, () =>
      r.existing
        ? `${short(r.infoHash)}  already loaded: ${r.name ?? ''}`
        : `added ${r.infoHash}  ${r.name ?? '(fetching metadata)'} → ${r.savePath}`,
    );
    return 0;
  }
  // A bucket is checked by the node that will write to it (it exists, its credentials reach it).
  if (o.storage !== undefined) throw new UsageError('--storage needs a running node (`cascade serve`): it checks the bucket before the add');
  const lib = await deps.loadEngine();
  return withDb(inv, async (db) => {
    const existing = db.getTorrent(d.infoHash);
    // Kept with the torrent: the next `cascade serve` tries them (and again after every restart).
    const keepPeers = () => rememberPeers(db.store, d.infoHash, o.peers);
    if (link.key) new (await import('@cascade/private-node/offline')).ShareKeys(db).set(d.infoHash, link.key, 'link');
    if (existing) {
      await keepPeers();
      out.result({ event: 'added', infoHash: d.infoHash, name: existing.name, savePath: existing.savePath, queued: false, existing: true }, () =>
        `${short(d.infoHash)}  already in the library: ${existing.name ?? ''} (${existing.status})`,
      );
      return 0;
    }
    // Where and how, decided as the running node decides: the category's save path, else the
    // download dir setting; the category must exist; paused if asked or by the startPaused setting.
    const { model } = await offlineModel(db);
    const plan = await model.planAdd({
      ...(o.savePath !== undefined ? { savePath: o.savePath } : {}),
      ...(o.category !== undefined ? { category: o.category } : {}),
      ...(o.tags.length > 0 ? { tags: o.tags } : {}),
      ...(o.paused ? { paused: true } : {}),
    });
    // A torrent never writes another's files: the next serve would download over them.
    if (d.source instanceof Uint8Array) refuseOwnedFiles(lib.parseTorrent(d.source), plan.savePath, await otherOwners(db, lib, d.infoHash));
    // Its category, tags and peers stored with its row: all of the add or none of it.
    const add = model.addStore(d.infoHash, plan, o.peers);
    await db.records.add({
      infoHash: d.infoHash,
      name: d.name ?? null,
      source: d.source,
      savePath: plan.savePath,
      status: plan.paused ? 'paused' : 'queued',
      length: d.length ?? null,
      pieceCount: d.pieceCount ?? null,
      // The next serve refuses to load it unless it has --directory: it never announces openly.
      privateDiscovery: o.privateDiscovery,
    }, add.options, add.within);
    add.committed();
    out.result({ event: 'added', infoHash: d.infoHash, name: d.name ?? null, savePath: plan.savePath, queued: true }, () =>
      `queued ${d.infoHash}${d.name ? `  ${d.name}` : ''} → ${plan.savePath}\n${NO_NODE}; it starts with the next \`cascade serve\``,
    );
    return 0;
  });
};

function showEntries(out: Output, online: boolean, torrents: ListEntry[], total = torrents.length): void {
  out.result({ online, torrents, total }, () =>
    (online ? '' : '(no running node: last known state)\n') +
    renderEntries(torrents) +
    (total > torrents.length ? `\n(${torrents.length} of ${total}; --limit shows more)` : ''),
  );
}

/** The filters and sort of `list`, in the node's own query shape (GET /api/torrents takes the same). */
function listQuery(inv: Invocation): ListQuery {
  const o = inv.options;
  const q: ListQuery = { order: o.order };
  if (o.sort !== undefined) q.sort = o.sort;
  if (o.state !== undefined) q.state = o.state;
  if (o.category !== undefined) q.category = o.category;
  if (o.tags.length > 1) throw new UsageError('list takes one --tag');
  if (o.tags[0] !== undefined) q.tag = o.tags[0];
  if (o.limit !== undefined) q.limit = o.limit;
  return q;
}

const list: Verb = async (inv, out, node) => {
  const q = listQuery(inv);
  // The node filters and sorts (as for the web UI); offline the same query runs on the stored rows.
  const r = node
    ? await node.call<{ torrents: ListEntry[]; total?: number }>('list', { ...q })
    : await withDb(inv, async (db) => queryEntries(await (await import('@cascade/private-node/offline')).withPrivateNames(db, db.listTorrents().map((rec) => offlineEntry(rec, db))), q));
  showEntries(out, node !== undefined, r.torrents, r.total ?? r.torrents.length);
  return 0;
};

// The node's library, then the DHT's signed records (words, a content id or an infohash); with no
// node running, the library in the state DB, then the DHT, joined for the look-up alone (issue 44).
// --json: one array of SearchRow.
const search: Verb = async (inv, out, node) => {
  const text = inv.positionals[0]!;
  const o = inv.options;
  let rows: SearchRow[];
  if (node) {
    if (['dht-bootstrap', 'dht', 'port', 'host'].some((k) => inv.values[k] !== undefined)) {
      out.note('a node is running on this state directory: it searches the DHT it has joined (the DHT options are for when none runs)');
    }
    rows = (await node.call<{ rows: SearchRow[] }>('find', { text })).rows;
  } else {
    // Its own DHT node on any free port unless told: it lives only for the look-up.
    const join = o.dht ? { port: inv.values.port === undefined ? 0 : o.port, host: o.host, dhtBootstrap: o.dhtBootstrap } : false;
    const { searchWithoutNode } = await import('@cascade/content-node/offline');
    const found = await withDb(inv, (db) => searchWithoutNode(db, text, join));
    if (found.answered === 0) {
      out.note(`no DHT node answered${o.dhtBootstrap.length > 0 ? ` (joined through ${o.dhtBootstrap.join(', ')})` : ''}: only the library was searched`);
    }
    rows = found.rows;
  }
  out.result(rows, () => (rows.length === 0 ? `nothing matches "${text}"` : renderSearchRows(rows)));
  return rows.length === 0 ? 1 : 0;
};

function renderSearchRows(rows: SearchRow[]): string {
  return rows
    .map((r) =>
      [
        `${r.name}  (${formatBytes(r.length)})`,
        `  infohash ${r.infoHash ?? '-'}${r.infoHashV2 ? `  v2 ${r.infoHashV2}` : ''}`,
        ...r.cids.map((c) => `  cid ${c}`),
        `  publisher ${r.publisher}`,
        `  providers ${r.providers.length > 0 ? r.providers.join(', ') : '-'}`,
        // A market listing's record (issue 62): where access is sold.
        ...(r.market ? [`  for sale  ${r.market.link}  (cascade market buy ${r.market.listingId})`] : []),
      ].join('\n'),
    )
    .join('\n');
}

function renderPeer(p: PeerStats): string {
  return (
    `  ${p.address.padEnd(22)} ${p.transport.padEnd(6)} ${(p.client ?? '?').slice(0, 20).padEnd(20)} ` +
    `${formatPercent(p.progress).padStart(6)}  ↓ ${formatSpeed(p.downloadSpeed)} ↑ ${formatSpeed(p.uploadSpeed)}` +
    `${p.choked ? ' choked' : ''}${p.interested ? ' interested' : ''}  (${p.source})`
  );
}

const peers: Verb = async (inv, out, node) => {
  const r = await requireNode(node).call<{ torrents: { infoHash: string; name: string | null; peers: PeerStats[] }[] }>(
    'peers',
    inv.positionals[0] ? { infoHash: inv.positionals[0] } : {},
  );
  out.result(r, () =>
    r.torrents.length === 0
      ? 'no torrents loaded'
      : r.torrents
          .map((t) => [`${short(t.infoHash)}  ${t.name ?? ''}: ${t.peers.length} peer(s)`, ...t.peers.map(renderPeer)].join('\n'))
          .join('\n'),
  );
  return 0;
};

const connect: Verb = async (inv, out, node) => {
  const [infoHash, address] = inv.positionals as [string, string];
  const r = await requireNode(node).call<{ infoHash: string; address: string }>('connect', { infoHash, address });
  out.result(r, () => `connecting ${short(r.infoHash)} to ${r.address}`);
  return 0;
};

function chainLine(c: ChainHealth): string {
  if (c.state === 'error') return `error: ${c.error}`;
  if (c.state !== 'running') return c.state;
  const eth = units18(c.balances.ether);
  const seed = units18(c.balances.token);
  return [
    `${c.embedded ? 'embedded' : c.rpcUrl}, id ${c.chainId}, block ${c.block}`,
    `         account ${c.account}: ${eth} ETH, ${seed} SEED`,
    ...(c.signer
      ? [
          c.signer.account
            ? `         gas paid by ${c.signer.account}: ${units18(c.signer.ether ?? '0')} ETH (external signer ${c.signer.url})`
            : `         external signer ${c.signer.url}: ${c.signer.error}`,
        ]
      : []),
    `         registry ${c.contracts.registry}, token ${c.contracts.token}, pool ${c.contracts.pool}`,
  ].join('\n');
}

function onionLine(o: OnionStatus): string {
  return [
    `private discovery ${o.privateByDefault ? 'for every torrent' : 'for torrents that ask'}; ${o.relays.listed} relays listed, ${o.relays.learned} learned from peers; ` +
      `${o.circuits.built} circuits built, ${o.circuits.failed} failed${o.lastError ? ` (last: ${o.lastError})` : ''}`,
    `         directories ${o.directories.join(', ')}`,
    ...(o.relay ? [`         relaying on ${o.relay.tcp}${o.relay.exit ? ' (discovery exit)' : ''}, ${o.relay.circuits} circuits through it${o.relay.tabs ? `, signalling for ${o.relay.tabs} tab relay${o.relay.tabs === 1 ? '' : 's'}` : ''}`] : []),
  ].join('\n');
}

type NetworkHealth = Pick<NetworkStatus, 'nat' | 'externalAddress' | 'reason' | 'portMapping'>;

const NAT_WORDS: Record<NetworkHealth['nat'], string> = {
  open: 'no NAT: others can connect to you',
  cone: 'behind a NAT that hole punching gets through: peers connect directly',
  symmetric: 'behind a strict (symmetric) NAT: peers that cannot reach you go through a TURN relay, slower',
  unknown: 'NAT type unknown',
};

function networkLine(n: NetworkHealth): string {
  const seen = n.externalAddress ? `, seen as ${n.externalAddress}` : '';
  const why = n.nat === 'unknown' && n.reason ? ` (${n.reason})` : '';
  const pm = n.portMapping;
  const mapping = pm.method ? `${pm.method === 'natpmp' ? 'NAT-PMP' : pm.method.toUpperCase()} mapped port ${pm.externalPort}` : `no port mapping${pm.error ? ` (${pm.error})` : ''}`;
  return `${NAT_WORDS[n.nat]}${seen}${why}\n         ${mapping}`;
}

const health: Verb = async (inv, out, node) => {
  if (node) {
    const h = await node.call<Record<string, unknown>>('health');
    // A node from before the chain has no `chain` method: say nothing of it then.
    const chain = await node.call<ChainHealth>('chain').catch(() => undefined);
    if (chain) h.chain = chain;
    out.result(h, () =>
      [
        `online   pid ${h.pid}, up ${h.uptimeSeconds}s`,
        `port     ${h.port}`,
        `torrents ${h.torrents}, peers ${h.peers}`,
        `dht      ${h.dhtEnabled ? `on, ${h.dhtNodes} nodes${h.dhtPort !== null ? `, UDP port ${h.dhtPort}` : ''}` : 'off'}`,
        `peer id  ${h.peerId}`,
        `node id  ${h.nodeId}`,
        `state    ${h.stateDir}`,
        ...(chain ? [`chain    ${chainLine(chain)}`] : []),
        ...(h.onion ? [`onion    ${onionLine(h.onion as OnionStatus)}`] : []),
        ...(h.network ? [`network  ${networkLine(h.network as NetworkHealth)}`] : []),
      ].join('\n'),
    );
    return 0;
  }
  const torrents = await withDb(inv, (db) => db.torrentCount());
  out.result({ online: false, stateDir: inv.options.stateDir, torrents }, () =>
    `offline: ${NO_NODE}\nstate    ${inv.options.stateDir} (${torrents} torrent${torrents === 1 ? '' : 's'})`,
  );
  // Non-zero so `cascade health` works as a liveness check in scripts.
  return 1;
};

function renderTracker(t: TrackerStatus): string {
  return `    [${t.tier}] ${t.url}  ${t.status}${t.peers ? `, ${t.peers} peers` : ''}${t.message ? ` — ${t.message}` : ''}`;
}

interface AnnounceReply {
  dht: boolean;
  torrents: { infoHash: string; name: string | null; state: string; announced: boolean; trackers: TrackerStatus[]; dht: string }[];
}

/** What the node did for each torrent: which trackers answered what, and whether the DHT was used. */
const announce: Verb = async (inv, out, node) => {
  const r = await requireNode(node).call<AnnounceReply>('announce', inv.positionals[0] ? { infoHash: inv.positionals[0] } : {});
  const dhtLine = (dht: string) =>
    dht === 'off' ? 'DHT: off (this node runs without the DHT)' : dht === 'private torrent' ? 'DHT: not used (private torrent)' : `DHT: ${dht}`;
  out.result(r, () =>
    r.torrents
      .map((t) => {
        const head = `${short(t.infoHash)}  ${t.name ?? ''}`;
        if (!t.announced) return `${head}\n  not announced: the torrent is ${t.state}`;
        const trackers = t.trackers.length === 0
          ? ['  trackers: none']
          : [`  trackers: announced to ${t.trackers.length}`, ...t.trackers.map(renderTracker)];
        return [head, ...trackers, `  ${dhtLine(t.dht)}`].join('\n');
      })
      .join('\n'),
  );
  if (inv.positionals[0] === undefined) {
    const announced = r.torrents.filter((t) => t.announced).length;
    sayCount(out, 'announce', announced, 0, r.torrents.length - announced);
  }
  return 0;
};

const debug: Verb = async (inv, out, node) => {
  const r = node
    ? await node.call<Record<string, unknown>>('debug')
    : await withDb(inv, async (db) => ({ online: false, db: { path: db.path, ...(await db.counts()) }, topPeers: await db.listPeers(20) }));
  out.result(r, () => JSON.stringify(r, null, 2));
  return 0;
};

const pauseOrResume = (which: 'pause' | 'resume'): Verb => async (inv, out, node) => {
  if (node && namesMany(inv)) return runMany(inv, out, node, which);
  if (!node && namesMany(inv)) {
    // Offline: each one marked in the DB, as for one.
    let count = 0;
    for (const arg of inv.positionals.includes('all') ? await withDb(inv, (db) => db.listTorrents().map((r) => r.infoHash)) : inv.positionals) {
      const code = await pauseOrResume(which)({ ...inv, positionals: [arg] }, out, node, defaultDeps);
      if (code !== 0) return code;
      count++;
    }
    sayCount(out, which, count);
    return 0;
  }
  const arg = inv.positionals[0]!;
  if (node) {
    const r = await node.call<{ infoHash: string; state: string }>(which, { infoHash: arg });
    out.result(r, () => `${which === 'pause' ? 'paused' : 'resumed'} ${short(r.infoHash)} (${r.state})`);
    return 0;
  }
  return withDb(inv, async (db) => {
    const ih = resolveInfoHash(arg, db.listTorrents().map((r) => r.infoHash));
    // Offline the status is all there is; serve honours 'paused' when it loads the library.
    const state = which === 'pause' ? 'paused' : 'queued';
    await db.records.setStatus(ih, state);
    out.result({ infoHash: ih, state, online: false }, () => `${NO_NODE}; marked ${short(ih)} ${state}`);
    return 0;
  });
};

const recheck: Verb = async (inv, out, node) => {
  if (namesMany(inv)) return runMany(inv, out, requireNode(node, 'recheck'), 'recheck');
  const r = await requireNode(node, 'recheck').call<{ infoHash: string; state: string }>('recheck', { infoHash: inv.positionals[0]! });
  out.result(r, () => `rechecking ${short(r.infoHash)} (${r.state}); \`cascade list\` shows its progress`);
  return 0;
};

/** `<savePath>/<name>` — refusing names that would escape savePath. */
function dataPath(savePath: string, name: string | null): string | undefined {
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes(sep) || name.includes('\0')) {
    return undefined;
  }
  return join(savePath, name);
}

const remove: Verb = async (inv, out, node, deps) => {
  if (node && namesMany(inv)) return runMany(inv, out, node, 'remove');
  if (!node && namesMany(inv)) {
    if (inv.positionals.includes('all')) throw new UsageError('`remove all` needs a running node; name the torrents to remove them offline');
    for (const arg of inv.positionals) {
      const code = await remove({ ...inv, positionals: [arg] }, out, node, deps);
      if (code !== 0) return code;
    }
    return 0;
  }
  const arg = inv.positionals[0]!;
  const deleteData = inv.options.deleteData;
  if (node) {
    const r = await node.call<{ infoHash: string }>('remove', { infoHash: arg, deleteData });
    out.result({ ...r, removed: true, deletedData: deleteData }, () =>
      `removed ${short(r.infoHash)}${deleteData ? ' and its data' : ''}`,
    );
    return 0;
  }
  const db = await openState(inv);
  try {
    const ih = resolveInfoHash(arg, db.listTorrents().map((r) => r.infoHash));
    const rec = db.getTorrent(ih)!;
    let deleted: string | undefined;
    if (deleteData) {
      // Only the files its metainfo lists, and none another torrent lists: a folder of the same
      // name may hold another torrent's files (or the user's own).
      const lib = await deps.loadEngine();
      const meta = await storedFiles(rec, db, lib);
      if (!meta) throw new CliError(`cannot delete data of ${ih}: its files are unknown (no metadata yet)`);
      await deleteOwnFiles(meta, rec.savePath, await otherOwners(db, lib, ih));
      deleted = dataPath(rec.savePath, meta.name);
    }
    await db.resume.forget([ih]);
    await db.records.remove([ih]);
    out.result({ infoHash: ih, removed: true, deletedData: deleteData, path: deleted ?? null, online: false }, () =>
      `removed ${short(ih)}${deleted ? ` and deleted ${deleted}` : ''}`,
    );
    return 0;
  } finally {
    await db.close();
  }
};

export const VERBS: Record<string, Verb> = {
  add,
  limits,
  queue,
  'force-start': forceStart,
  sequential: pieceOrderVerb('sequential'),
  'first-last': pieceOrderVerb('firstLastPiece'),
  move,
  settings,
  category,
  tags,
  list,
  search,
  peers,
  connect,
  health,
  cluster,
  announce,
  debug,
  pause: pauseOrResume('pause'),
  resume: pauseOrResume('resume'),
  recheck,
  remove,
  register,
  verify,
  rewards,
};

export async function runVerb(inv: Invocation, out: Output, deps: VerbDeps = defaultDeps): Promise<number> {
  const verb = VERBS[inv.command];
  if (!verb) throw new UsageError(`unknown command "${inv.command}"`);
  const node = await deps.connect(inv.options.stateDir);
  return verb(inv, out, node, deps);
}
