// A running BitTorrent node: the engine session plus the state DB, the peer ledger and the control
// endpoint. `cascade serve` (through startServer), `seed` and `download` all run one of these.

import type { IceServer } from '../model/ice-servers.ts';
import type { NodeNetworkProbe, NodePortMapping, NodePrivateDiscovery } from './node-network.ts';
import { StateDB, type TorrentStatus } from '@cascade/node-state';
import { NodeError, InvalidInput, errorMessage } from '@cascade/node-state/errors';
import { PeerLedger } from '../peers/peer-ledger.ts';
import { ControlServer } from './control.ts';
import { createNodeApi } from './node-api.ts';
import { MemoryReducer } from './memory-reducer.ts';
import { TorrentFeed } from './torrent-feed.ts';
import { followTorrents } from './follow-torrents.ts';
import { refuseFilesOfStored, removeTorrents } from './torrent-removal.ts';
import { restorePieceOrder } from '../files/torrent-edits.ts';
import { resolveInfoHash } from './infohash.ts';
import { IdentifiedPeers } from '../peers/identified-peers.ts';
import { nodeIdentity } from './node-identity.ts';
import { NodePrivateShares, type LoadPrivateShares, type NodeSecrets } from './node-private.ts';
import { summaryCache } from '../listing/summary-cache.ts';
import { missingFilesOf } from './unchecked-claims.ts';
import { rememberPeers } from '../peers/manual-peers.ts';
import { NodeModel, type ModelState } from '../model/index.ts';
import type { AddInput } from './node-parts.ts';
import { QueueManager, type QueueOptions } from '../queue/manager.ts';
import { NodeContentIds, type ContentIdMode, type LoadContentIds } from './content-ids.ts';
import type { AddExtra, AddOptions, InfoHashResolver, NodeCore, TorrentAdder, TorrentEvents, TorrentTap, TorrentVerbs } from './node-parts.ts';
import type { NodeLog } from './node-log.ts';
import type {
  SessionHandle,
  SessionHealth,
  TorrentHandle,
  TorrentSource,
  TorrentStats,
  AddTorrentOptions,
  Metainfo,
} from './engine.ts';
import type { NodeCluster } from './node-cluster.ts';
import type { StoragePlugin } from './storage-plugin.ts';

export type { NodeOptions, ConnectionLimits } from './node-options.ts';


/** Settings that change which torrents run or stop. */
const QUEUE_SETTINGS = new Set<string>([
  'maxActiveDownloads',
  'maxActiveUploads',
  'maxActiveTorrents',
  'stalledTimeout',
  'ratioLimit',
  'seedingTimeLimit',
  'seedingLimitAction',
]);

export { silentLog } from './node-log.ts';

export function statusOf(s: TorrentStats): TorrentStatus {
  switch (s.state) {
    case 'seeding':
      return 'seeding';
    case 'paused':
      return 'paused';
    case 'error':
      return 'error';
    default:
      return 'downloading';
  }
}

/** The DHT port, if this engine build exposes one (a `dhtPort` getter or a health() field). */
export function dhtPortOf(session: SessionHandle): number | undefined {
  const direct = (session as SessionHandle & { dhtPort?: unknown }).dhtPort;
  if (typeof direct === 'number') return direct;
  const h = session.health() as SessionHealth & { dhtPort?: unknown };
  return typeof h.dhtPort === 'number' ? h.dhtPort : undefined;
}

export type { NodeLog } from './node-log.ts';
export type { TorrentTap } from './node-parts.ts';

/**
 * The features above the node that it loads when it needs them (issue 64), each handed in by the
 * layer that starts it as its dynamic import(): the private shares the first time it meets one
 * (node-private.ts), the content ids at its start when it computes them as torrents complete, else
 * when first asked (content-ids.ts). A node given none runs without them.
 */
export interface NodePlugins {
  privateShares?: LoadPrivateShares | undefined;
  contentIds?: LoadContentIds | undefined;
}

export class CascadeNode implements NodeCore, TorrentEvents, InfoHashResolver, TorrentAdder, TorrentVerbs {
  readonly session: SessionHandle;
  readonly db: StateDB;
  readonly ledger: PeerLedger;
  readonly out: NodeLog;
  /** Peers that proved a Cascade identity (wire extension). */
  readonly identified: IdentifiedPeers;
  readonly startedAt = Date.now();
  control: ControlServer | undefined;
  /** The node's own trackers (the built-in one's announce URLs, then --tracker ones): every torrent
   *  added or loaded gets them, whichever door it came through (API, web UI, CLI). None by default. */
  announceUrls: () => string[] = () => [];
  /** The built-in tracker's own (local) URLs: every torrent announces there too, so the node is in
   *  its own tracker's swarms even when the URLs put in torrents are public ones (publicUrl). */
  ownTrackers: () => string[] = () => [];
  /** Settings, categories, tags and each torrent's own options (src/model/). */
  readonly model: NodeModel;
  /** Private discovery's onion client, when the node was given directories (issue 14; the network
   *  plug-in makes it: node-network.ts). */
  onion: NodePrivateDiscovery | undefined;
  /** Which torrents run (limits, order, force start, stalls), seeding goals, the alt-speed schedule. */
  readonly queue: QueueManager;
  /** Tells the live feed something changed (the server sets it). */
  changed: () => void = () => {};
  /** Private shares (issue 24): which torrents are, which this node reads, their plaintext
   *  (@cascade/private-node, loaded the first time the node meets one: node-private.ts). */
  readonly privateShares: NodePrivateShares;
  /** Content ids of complete files, the node's DHT records, search (issue 15; @cascade/content-node,
   *  loaded by startNode or when first asked: content-ids.ts). */
  readonly content: NodeContentIds;
  /** The torrents followed, and their events fanned out to the node's listeners. */
  readonly #feed: TorrentFeed;
  #stopping: Promise<void> | undefined;
  #trackers: string[] = [];
  /** The lease on a shared database (PostgreSQL: state/database-lease.ts), given back at stop. */
  lease: { release(): Promise<void> } | undefined;
  /** Torrents' data in a bucket (issue 61: startNode's `storage`); undefined: all on the disk. */
  storage: StoragePlugin | undefined;
  /** Its membership when it is a cluster's member (then also `lease`; @cascade/cluster, handed in
   *  by the layer that started it: node-cluster.ts), else undefined. */
  cluster: NodeCluster | undefined;
  #fatal!: (reason: string) => void;
  /** Resolves with the reason when this node must stop by itself (its database lease was taken
   *  over): the process that runs it stops it and exits non-zero. */
  readonly fatal: Promise<string> = new Promise((resolve) => (this.#fatal = resolve));
  /** Collects a burst's garbage (adds, a start's loads) once the node is quiet again. */
  readonly memory = new MemoryReducer();

  constructor(parts: {
    session: SessionHandle;
    db: StateDB;
    /** What the model keeps in memory, read from db.store first (loadModelState). */
    modelState: ModelState;
    out: NodeLog;
    ledgerFlushMs?: number;
    identified?: IdentifiedPeers;
    downloadDir?: string | undefined;
    queue?: QueueOptions | undefined;
    /** When content ids are computed (default: in the background as torrents complete). */
    contentIds?: ContentIdMode | undefined;
    /** How the features above the node are loaded when it needs them (startNode's). */
    plugins?: NodePlugins | undefined;
  }) {
    this.session = parts.session;
    this.db = parts.db;
    this.out = parts.out;
    this.identified = parts.identified ?? new IdentifiedPeers(parts.out);
    this.#feed = new TorrentFeed(parts.session, parts.out);
    this.ledger = new PeerLedger(parts.db, parts.ledgerFlushMs ?? 5000);
    this.model = new NodeModel({ session: parts.session, db: parts.db, state: parts.modelState, out: parts.out, downloadDir: parts.downloadDir });
    this.queue = new QueueManager(
      {
        session: parts.session,
        db: parts.db,
        out: parts.out,
        settings: () => this.model.settings.current(),
        setAltSpeedEnabled: (on) => this.model.settings.update({ altSpeedEnabled: on }).then(
          () => {},
          (err: unknown) => parts.out.note(`switching the alternative speed failed: ${errorMessage(err)}`),
        ),
        remove: (ih) => this.remove(ih, false),
        changed: () => this.changed(),
        pendingTotals: (ih) => this.model.pendingTotals(ih),
        onTick: () => this.model.tick(),
      },
      parts.queue,
    );
    this.model.torrentChanged = (ih) => this.queue.apply([ih]);
    let secrets: NodeSecrets | undefined;
    this.privateShares = new NodePrivateShares({
      db: parts.db,
      out: parts.out,
      session: parts.session,
      onTorrentEvent: (event, fn) => this.onTorrentEvent(event, fn),
      isTracked: (ih) => this.isTracked(ih),
      secrets: () => {
        if (!secrets) {
          const id = nodeIdentity(parts.db);
          secrets = { did: id.did, dhPublic: id.dhPublic, secrets: [id.dhSecret, ...(id.legacyDhSecret ? [id.legacyDhSecret] : [])] };
        }
        return secrets;
      },
      changed: (ih) => {
        summaryCache(this).touch(ih);
        this.changed();
      },
    }, parts.plugins?.privateShares);
    this.content = new NodeContentIds(this, parts.plugins?.contentIds, parts.contentIds);
    followTorrents(this);
    this.model.settings.onChange((_next, _prev, changed) => {
      if (changed.includes('altSpeedSchedule')) this.queue.scheduleChanged(changed.includes('altSpeedEnabled'));
      if (changed.some((k) => QUEUE_SETTINGS.has(k))) this.queue.poke();
    });
  }

  /** ICE servers fixed by the node's options (tests: [] = host candidates only); else the setting. */
  fixedIceServers: IceServer[] | undefined;
  /** How the node is reached (NAT, external address, ICE servers found), when a network plug-in
   *  probes it (node-network.ts). */
  network: NodeNetworkProbe | undefined;
  /** The port mapper following the portMapping setting (a network plug-in that maps: serve). */
  portMapping: NodePortMapping | undefined;

  /** The ICE servers in force: fixed, else the setting, else those found on the trackers. */
  iceServers(): IceServer[] {
    if (this.fixedIceServers) return this.fixedIceServers;
    const set = this.model.getSettings().iceServers;
    if (set.length > 0) return set;
    const found = this.network?.status();
    return found?.iceSource === 'trackers' ? found.iceServers : [];
  }

  /** The iceServers setting drives the session's WebRTC, now and whenever it changes; without one,
   *  the STUN (and TURN) of the trackers the node announces to (found by the network's probe,
   *  which puts the list in force). ICE servers fixed by the node's options win over both (the
   *  network is still probed with them). With no probe the setting is put in force here. */
  followIceServerSetting(): void {
    const set = this.model.getSettings().iceServers;
    if (!this.network && !this.fixedIceServers && set.length > 0) this.session.setIceServers?.(set, { relayOnly: false });
    this.model.settings.onChange((_next, _prev, changed) => {
      if (!changed.includes('iceServers') || this.fixedIceServers) return;
      // In force at once (the probe that follows may take seconds): the new list, or none until
      // the probe finds the trackers' again.
      this.session.setIceServers?.(this.iceServers(), { relayOnly: this.network?.status().relayOnly === true });
      void this.network?.refresh();
    });
  }

  /** Where a torrent goes when its add (and its category) names no save path: the downloadDir setting. */
  get downloadDir(): string {
    return this.model.getSettings().downloadDir;
  }

  /**
   * Adds a torrent the way every door does: save path, category, tags and paused resolved by the
   * model (a category's save path, else the download dir; settings.startPaused), then stored.
   */
  async addWith(
    source: TorrentSource,
    input: AddInput,
    extra: AddExtra = {},
  ): Promise<TorrentHandle> {
    const plan = await this.model.planAdd(input);
    const hidden = extra.privateDiscovery ?? this.onion?.byDefault ?? false;
    if (hidden && !this.onion) throw new InvalidInput('private discovery needs relays: start the node with --directory URL (a Cascade tracker that lists relays)');
    await this.chooseStorage(source, extra.storage);
    // Its category (made if new) and tags are stored with its row, in one transaction.
    return this.add(source, {
      savePath: plan.savePath,
      paused: plan.paused,
      ...(hidden ? { privateDiscovery: true } : {}),
      ...(extra.peers && extra.peers.length > 0 ? { peers: extra.peers } : {}),
      ...(extra.selectedFiles ? { selectedFiles: extra.selectedFiles } : {}),
      ...(extra.mirrors ? { mirrors: extra.mirrors } : {}),
    }, true, true, plan);
  }

  /** Where a new torrent's data goes (issue 61), settled before the engine asks for its storage:
   *  a malformed s3:// location, a missing bucket or refused credentials refuse the add. */
  async chooseStorage(source: TorrentSource, storage: string | undefined): Promise<void> {
    if (!this.storage && storage !== undefined && !/^(disk|file|local)$/i.test(storage.trim())) throw new InvalidInput('"storage": this node keeps data on its disk only');
    await this.storage?.assign(source, storage).catch((err: unknown) => Promise.reject(new InvalidInput(`"storage": ${errorMessage(err)}`, { cause: err })));
  }

  /**
   * Adds a torrent to the session and (unless record is false) to the library in the DB. A torrent
   * of the library (`queued`: recorded now, or loaded from the DB) goes to the engine paused and the
   * queue starts it if it has a slot, so nothing runs past the limits even for a moment; a new
   * torrent's add resolves once that is decided (a load at start does not wait for it).
   */
  async add(source: TorrentSource, opts: AddTorrentOptions, record = true, queued = record, options?: AddOptions): Promise<TorrentHandle> {
    // A cluster member fenced (its lease taken) answers at once, so a balancer tries another (issue 63).
    if (record && this.cluster?.state === 'fenced') throw new NodeError('unavailable', 'this cluster member is fenced (its lease on the database was taken) and rejoining: add through another member, or again in a few seconds');
    if (record && source instanceof Uint8Array) await this.refuseOwnedFiles(source, opts.savePath);
    // A hidden torrent skips the built-in tracker's own (loopback) URLs: announced through an exit
    // they would name the exit's machine, and in-process they would list this node.
    const own = opts.privateDiscovery ? [] : this.ownTrackers();
    const ownSet = new Set(this.ownTrackers());
    const list = [...new Set([...this.announceUrls().filter((u) => !opts.privateDiscovery || !ownSet.has(u)), ...own])];
    // The last add's list when equal (frozen): 10,000 torrents each held a copy of the same few URLs.
    const trackers = list.join('\n') === this.#trackers.join('\n') ? this.#trackers : (this.#trackers = Object.freeze(list) as string[]);
    const engineOpts = { ...opts, ...(queued ? { paused: true } : {}), ...(trackers.length > 0 ? { trackers } : {}) };
    const t = await this.session.add(source, engineOpts);
    // Acknowledged only once stored (issue 42): the add resolves after the Store took it. One the
    // Store refused (the database away: 503) leaves the engine as it found it, so nothing runs or
    // is listed that the library does not have.
    if (record) {
      const known = this.db.records.has(t.infoHashHex);
      try {
        await this.record(t, source, opts, false, options);
      } catch (err) {
        if (!known && !this.db.records.has(t.infoHashHex)) await this.session.remove(t.infoHashHex, { deleteData: false }).catch(() => {});
        throw err;
      }
    }
    this.track(t);
    this.model.applyStored(t);
    if (!record) restorePieceOrder(this, t);
    if (record) await this.queue.admit(t.infoHashHex);
    else if (queued) void this.queue.admit(t.infoHashHex, true);
    return t;
  }

  /** Private discovery on or off for a torrent (issue 14): the running torrent switches at once. */
  async setPrivateDiscovery(infoHash: string, on: boolean): Promise<void> {
    if (on && !this.onion) throw new InvalidInput('private discovery needs relays: start the node with --directory URL (a Cascade tracker that lists relays)');
    await this.session.get(infoHash)?.setPrivateDiscovery?.(on);
    await this.db.records.setPrivateDiscovery(infoHash, on);
  }

  /** Peers given by hand for a torrent already loaded: tried now, and again after a restart. */
  async addPeers(t: TorrentHandle, peers: readonly string[]): Promise<void> {
    for (const p of peers) t.addPeer(p);
    if (this.db.getTorrent(t.infoHashHex)) await rememberPeers(this.db.store, t.infoHashHex, peers);
  }

  /** Stores a torrent in the library, with its peers given by hand and `options` (its category,
   *  made if new, and tags) in the same transaction: all of the add or none of it (issue 42);
   *  replan: the queue looks at it soon (add() decides at once instead). */
  async record(t: TorrentHandle, source: TorrentSource, opts: AddTorrentOptions, replan = true, options?: AddOptions): Promise<void> {
    const s = t.stats();
    const ih = t.infoHashHex;
    const add = this.model.addStore(ih, options ?? { category: null, tags: [] }, opts.peers);
    await this.db.records.add({
      infoHash: ih,
      name: t.metainfo?.name ?? s.name ?? null,
      source,
      savePath: opts.savePath,
      // Not paused by the user: waiting for the queue, which runs it at once if it has a slot.
      status: opts.paused ? 'paused' : 'queued',
      selectedFiles: opts.selectedFiles ?? null,
      privateDiscovery: opts.privateDiscovery === true,
      // Joined with those stored before: a re-add with a new mirror keeps the old ones.
      ...(opts.mirrors?.length ? { mirrors: [...new Set([...(this.db.records.get(ih)?.mirrors ?? []), ...opts.mirrors])] } : {}),
      length: t.metainfo?.length ?? null,
      pieceCount: t.metainfo?.pieceCount ?? null,
    }, add.options, add.within);
    add.committed();
    if (replan) this.queue.poke();
  }

  /** Keeps the DB's view of a torrent current and feeds its traffic to the peer ledger. Its
   *  events reach the node's taps (onTorrentEvent): nothing is attached to the torrent itself. */
  track(t: TorrentHandle): void {
    if (this.#feed.isTracked(t.infoHashHex)) return;
    this.network?.soon(); // its trackers may be new STUN servers
    this.memory.activity();
    this.#feed.track(t);
  }

  /** Others that follow each torrent's events while it is tracked (the assistant's evidence):
   *  called for every torrent tracked from now on; each returns how to stop. */
  get watchers(): ((t: TorrentHandle) => () => void)[] {
    return this.#feed.watchers;
  }

  /**
   * Calls `fn(torrent, ...args)` for `event` of every torrent this node tracks, and for two of its
   * own: 'tracked' (a torrent is followed from now on) and 'untracked' (no longer). One listener
   * for all torrents, where a listener per torrent cost closures and arrays on each of 10,000.
   */
  onTorrentEvent(event: string, fn: TorrentTap): () => void {
    return this.#feed.on(event, fn);
  }

  /** Whether the node follows this torrent now (tracked and not yet removed). */
  isTracked(infoHash: string): boolean {
    return this.#feed.isTracked(infoHash);
  }

  /** Files gone of a paused torrent not checked since (ListingNode.missingFiles). */
  missingFiles = (infoHash: string): string[] | undefined => missingFilesOf(this, infoHash);

  /** Full infohash for a user's argument (full hash or unique prefix), among live and stored torrents. */
  resolve(arg: string): string {
    const known = [...this.session.list().map((t) => t.infoHashHex), ...this.db.listTorrents().map((r) => r.infoHash)];
    return resolveInfoHash(arg, known);
  }

  /** A .torrent whose files a stored torrent owns is refused (torrent-removal.ts). */
  refuseOwnedFiles(bytes: Uint8Array, savePath: string): Promise<void> {
    return refuseFilesOfStored(this.session, this.db, bytes, savePath);
  }

  async remove(infoHash: string, deleteData: boolean): Promise<void> {
    const err = (await this.removeMany([infoHash], deleteData)).get(infoHash);
    if (err) throw err;
  }

  /** Removes torrents (and their own files with deleteData; ownCopy: this member's copy only); each torrent's failure is its own (the map's value). */
  removeMany(infoHashes: readonly string[], deleteData: boolean, ownCopy = false): Promise<Map<string, unknown>> {
    return removeTorrents({ session: this.session, db: this.db, model: this.model, queue: this.queue, privateShares: this.privateShares, storage: this.storage, untrack: (ih) => this.#feed.untrack(ih) }, infoHashes, deleteData, ownCopy);
  }

  /** The state a user sees: the engine's, "queued" for one the queue holds back, or the stored status. */
  stateOf(infoHash: string): string {
    const live = this.session.get(infoHash)?.stats().state;
    const status = this.db.getTorrent(infoHash)?.status;
    if (live === 'paused' && status !== undefined && status !== 'paused') return 'queued';
    return live ?? status ?? 'unknown';
  }

  /** The user's pause: stopped (not queued, not counted), and the next in the queue takes the slot. */
  async pause(infoHash: string): Promise<void> {
    if (this.db.getTorrent(infoHash)) return this.queue.stop([infoHash]);
    await this.session.get(infoHash)?.pause();
  }

  /** The user's resume: back in the queue; it runs at once if it has a slot. */
  async resume(infoHash: string): Promise<void> {
    if (this.db.getTorrent(infoHash)) return this.queue.start([infoHash]);
    await this.session.get(infoHash)?.resume();
  }

  /** Starts a forced recheck of a loaded torrent and returns its state ("checking" while it runs). */
  recheck(infoHash: string): string {
    const t = this.session.get(infoHash);
    if (!t) throw new NodeError('failed', `torrent ${infoHash} is in the library but not loaded in the running node`);
    if (!t.metainfo) throw new NodeError('failed', `torrent ${infoHash} has no metadata yet: there is nothing on disk to check`);
    const paused = t.stats().state === 'paused';
    // It runs on after the answer (minutes for a big torrent); failures end as the torrent's error.
    t.recheck().catch((err: unknown) => this.out.note(`recheck of ${infoHash} failed: ${errorMessage(err)}`));
    // Complete again, it says 'done' (→ seeding); until then it is not.
    if (!paused) this.db.records.setStatus(infoHash, 'downloading').catch((err: unknown) => this.out.note(`state DB update failed for ${infoHash}: ${errorMessage(err)}`));
    return t.stats().state;
  }

  health(): Record<string, unknown> {
    const h = this.session.health();
    return {
      online: true,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      ...h,
      dhtPort: dhtPortOf(this.session) ?? null,
      peerId: this.session.peerIdHex,
      nodeId: this.db.identity.publicKeyHex,
      stateDir: this.db.stateDir,
      controlPort: this.control?.port ?? null,
      onion: this.onion?.status() ?? null,
      network: this.network?.status() ?? null,
      // BEP 14 local service discovery: on or off, its sockets, and its messages and peers so far.
      lsd: this.session.localDiscovery ? { ...this.session.localDiscovery(), ...this.session.counters?.().lsd } : null,
    };
  }

  /** Serves the control endpoint; registers in control.json unless another live node owns it. */
  async startControl(register: boolean): Promise<void> {
    this.control = await ControlServer.start(this.db.stateDir, createNodeApi(this), { register });
    // On PostgreSQL the token is the state's (shared by the nodes on it); control.json follows it.
    await this.control.apiToken.useStore(this.db.store);
  }

  /** Something this node cannot go on after (a lost database lease): said once, and `fatal` resolves. */
  failed(reason: string): void {
    this.out.note(`error: ${reason}`);
    this.#fatal(reason);
  }

  /** Idempotent clean shutdown: stop taking requests, close the session (it saves resume data), flush. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const errors: unknown[] = [];
      const attempt = async (fn: () => unknown) => {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      };
      await attempt(() => this.control?.close());
      this.cluster?.stopping();
      // Before the session closes: the gateway forgets our mappings while the port still listens.
      await attempt(() => this.portMapping?.stop());
      this.queue.close();
      this.memory.close();
      await attempt(() => this.content.close());
      // The last traffic totals are sampled while the torrents still run, and written before the DB closes.
      await attempt(() => this.model.stop());
      // Handles kept from before the session closes: the 'untracked' listeners get them after.
      const running = new Map(this.session.list().map((t) => [t.infoHashHex, t]));
      await attempt(() => this.session.close());
      this.onion?.close();
      this.network?.stop();
      for (const ih of this.#feed.tracked()) this.#feed.untrack(ih, running.get(ih));
      await attempt(() => this.ledger.close());
      await attempt(() => this.identified.close());
      // Statuses the torrents' last events gave (a batch on its way) land before the DB closes.
      await attempt(() => this.db.records.settled());
      // And the resume records the torrents saved as they stopped.
      await attempt(() => this.db.resume.settled());
      await attempt(() => this.cluster?.close());
      await attempt(() => this.lease?.release());
      await attempt(() => this.db.close());
      if (errors.length > 0) throw new NodeError('failed', `shutdown: ${errors.map(errorMessage).join('; ')}`);
    })();
    return this.#stopping;
  }
}
