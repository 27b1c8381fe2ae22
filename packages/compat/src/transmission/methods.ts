// The RPC's methods (Transmission 4.0, rpc-version 17). Each takes the request's `arguments` and
// returns the response's; an RpcError (or an error from the node) becomes the `result` string.
// Methods that act on several torrents try them all and report the first failure, as Transmission does.

import type { CompatOps, TorrentRow } from '../ops.ts';
import { RpcError, absolutePath, bool, indexes, str, strings, type Args } from './args.ts';
import { TorrentIds } from './ids.ts';
import { TORRENT_FIELDS } from './fields.ts';
import { SESSION_MEMORY, SessionMemory, rememberedSession, sessionSet, sessionStats, sessionValues } from './session.ts';
import { memoryOf } from '../memory.ts';
import { setTorrent, splitLabels } from './torrent-set.ts';
import { TorrentView, queuePositions, type ViewContext } from './torrent-view.ts';
import { BandwidthGroups, type StoredGroups } from './groups.ts';
import { renamePath } from './rename.ts';

type Method = (args: Args) => Promise<Record<string, unknown>>;

/** The name of torrents' limits set while off and the bandwidth groups in the adapters' memory. */
const TORRENT_MEMORY = 'torrent-memory';

interface StoredTorrentMemory {
  /** infohash → kB/s shown while the torrent's limit is off. */
  down: Record<string, number>;
  up: Record<string, number>;
  groups: StoredGroups;
}

/** One request's view of it; `was`: as read, to store only a change. */
interface TorrentMemory {
  remembered: { down: Map<string, number>; up: Map<string, number> };
  groups: BandwidthGroups;
  was: string;
}

const QUEUE_MOVES = { 'queue-move-top': 'top', 'queue-move-up': 'up', 'queue-move-down': 'down', 'queue-move-bottom': 'bottom' } as const;

export class TransmissionRpc {
  readonly #ops: CompatOps;
  readonly #sessionId: () => string;
  readonly ids = new TorrentIds();
  readonly methods: Record<string, Method>;

  constructor(ops: CompatOps, sessionId: () => string) {
    this.#ops = ops;
    this.#sessionId = sessionId;
    const each = (what: (r: TorrentRow, args: Args) => Promise<unknown> | unknown): Method => async (args) => {
      await this.#each(await this.#select(args), (r) => what(r, args));
      return {};
    };
    this.methods = {
      'session-get': (args) => this.#sessionGet(args),
      'session-set': async (args) => {
        const mem = await this.#sessionMemory();
        await sessionSet(ops, mem, args);
        await memoryOf(ops).set('transmission', SESSION_MEMORY, { ...mem });
        return {};
      },
      'session-stats': async () => sessionStats(ops),
      'torrent-get': async (args) => this.#torrentGet(args, await this.#torrentMemory()),
      'torrent-add': (args) => this.#torrentAdd(args),
      'torrent-remove': async (args) => {
        const deleteData = bool(args, 'delete-local-data') ?? false;
        await this.#each(await this.#select(args), async (r) => {
          await ops.remove(r.infoHash, deleteData);
          this.ids.removed(r.infoHash);
        });
        return {};
      },
      'torrent-start': each((r) => (r.state === 'paused' || r.state === 'error' ? ops.resume(r.infoHash) : undefined)),
      // Start now: past the queue, the way Cascade's force start is.
      'torrent-start-now': each(async (r) => {
        await ops.setTorrent(r.infoHash, { forceStart: true });
        if (r.state === 'paused' || r.state === 'error' || r.state === 'queued') await ops.resume(r.infoHash);
      }),
      'torrent-stop': each(async (r) => {
        if (r.forceStart) await ops.setTorrent(r.infoHash, { forceStart: false });
        if (r.state !== 'paused') await ops.pause(r.infoHash);
      }),
      'torrent-verify': each((r) => ops.recheck(r.infoHash)),
      'torrent-reannounce': each((r) => ops.reannounce(r.infoHash)),
      'torrent-set': async (args) => {
        const mem = await this.#torrentMemory();
        const ctx = this.#viewContext(ops.list(), mem);
        const problems: string[] = [];
        try {
          await this.#each(await this.#select(args), (r) => setTorrent(ops, ctx, r, args, problems));
        } finally {
          await this.#keep(mem);
        }
        if (problems.length > 0) throw new RpcError([...new Set(problems)].join('; '));
        return {};
      },
      'torrent-set-location': async (args) => {
        const location = absolutePath(args, 'location', 'new location');
        if (location === undefined) throw new RpcError('no location');
        if (bool(args, 'move') !== true) {
          throw new RpcError('Cascade moves the data to a new location; it does not look for it there: send "move": true (transmission-remote --move)');
        }
        await this.#each(await this.#select(args), (r) => ops.setTorrent(r.infoHash, { savePath: location }));
        return {};
      },
      'torrent-rename-path': async (args) => {
        const rows = await this.#select(args);
        if (rows.length !== 1) throw new RpcError('torrent-rename-path requires 1 torrent');
        return { ...(await renamePath(ops, rows[0]!.infoHash, args)), id: this.ids.idOf(rows[0]!.infoHash) };
      },
      ...Object.fromEntries(
        Object.entries(QUEUE_MOVES).map(([name, move]) => [
          name,
          async (args: Args) => {
            const hashes = (await this.#select(args)).map((r) => r.infoHash);
            if (hashes.length > 0) await ops.moveInQueue(hashes, move);
            return {};
          },
        ]),
      ),
      'free-space': async (args) => {
        const path = absolutePath(args, 'path', 'directory');
        if (path === undefined) throw new RpcError('directory path argument is missing');
        const s = await ops.freeSpace(path);
        return { path, 'size-bytes': s.free, total_size: s.total };
      },
      'port-test': async () => {
        const r = ops.transfer().reachability;
        if (r === 'unknown') throw new RpcError('Couldn’t test port: Cascade does not ask an outside service; no peer has connected in yet, so it is not known');
        return { 'port-is-open': r === 'reachable', 'ip_protocol': 'ipv4' };
      },
      'blocklist-update': async () => {
        throw new RpcError('Cascade has no blocklist');
      },
      'session-close': async () => {
        throw new RpcError('session-close is refused: a Cascade node is not shut down from a remote (stop it on its host)');
      },
      'group-get': async (args) => (await this.#torrentMemory()).groups.get(args),
      'group-set': async (args) => {
        const mem = await this.#torrentMemory();
        try {
          await mem.groups.set(ops, args);
        } finally {
          await this.#keep(mem);
        }
        return {};
      },
    };
  }

  /** The node's list, observed (ids, changes, removals) and narrowed to the request's `ids`. */
  async #select(args: Args): Promise<TorrentRow[]> {
    const rows = await this.#observe();
    return this.ids.select(rows, args.ids);
  }

  /** The node's list with every torrent's id known: new torrents get theirs from the node's state
   *  (the same through every member of a cluster) before they are observed. */
  async #observe(): Promise<TorrentRow[]> {
    const rows = this.#ops.list();
    const unknown = this.#ops.transmissionIds ? this.ids.unknown(rows) : [];
    if (unknown.length > 0) this.ids.learn(await this.#ops.transmissionIds!(unknown));
    this.ids.observe(rows);
    return rows;
  }

  async #each(rows: TorrentRow[], act: (r: TorrentRow) => Promise<unknown> | unknown): Promise<void> {
    let first: unknown;
    for (const r of rows) {
      try {
        await act(r);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  #viewContext(rows: TorrentRow[], mem: TorrentMemory): ViewContext {
    // The queue's numbering sorts every row: made only when a field asks for it.
    let queue: Map<string, number> | undefined;
    return {
      ops: this.#ops, ids: this.ids, settings: this.#ops.settings(), now: Date.now(), remembered: mem.remembered, groups: mem.groups,
      get queue() {
        return (queue ??= queuePositions(rows));
      },
    };
  }

  /** Torrents' limits set while off and the bandwidth groups, as the node keeps them (its state:
   *  every member of a cluster shows the same), read for one request. */
  async #torrentMemory(): Promise<TorrentMemory> {
    const stored = (await memoryOf(this.#ops).get('transmission', TORRENT_MEMORY)) as Partial<StoredTorrentMemory> | undefined;
    const map = (v: unknown) => new Map(Object.entries(v && typeof v === 'object' ? v : {}).filter((e): e is [string, number] => typeof e[1] === 'number'));
    const mem = { remembered: { down: map(stored?.down), up: map(stored?.up) }, groups: BandwidthGroups.from(stored?.groups), was: '' };
    mem.was = JSON.stringify(this.#stored(mem, null));
    return mem;
  }

  /** Stores what a request changed (entries of torrents no longer in the library dropped). */
  async #keep(mem: TorrentMemory): Promise<void> {
    const known = new Set(this.#ops.list().map((r) => r.infoHash));
    const next = this.#stored(mem, known);
    if (JSON.stringify(next) !== mem.was) await memoryOf(this.#ops).set('transmission', TORRENT_MEMORY, next);
  }

  /** What to store of `mem`: every entry, or those of the `known` torrents only. */
  #stored(mem: TorrentMemory, known: ReadonlySet<string> | null): StoredTorrentMemory {
    const keep = (m: Map<string, number>) => Object.fromEntries([...m].filter(([ih]) => !known || known.has(ih)));
    return { down: keep(mem.remembered.down), up: keep(mem.remembered.up), groups: mem.groups.stored(known) };
  }

  /** The values shown for limits that are off, as the node keeps them (its state: every member
   *  of a cluster shows the same). */
  async #sessionMemory(): Promise<SessionMemory> {
    return rememberedSession(await memoryOf(this.#ops).get('transmission', SESSION_MEMORY));
  }

  async #sessionGet(args: Args): Promise<Record<string, unknown>> {
    const all = await sessionValues(this.#ops, await this.#sessionMemory(), this.#sessionId());
    const fields = strings(args, 'fields');
    if (fields === undefined) return all;
    return Object.fromEntries(fields.filter((f) => Object.hasOwn(all, f)).map((f) => [f, all[f]]));
  }

  async #torrentGet(args: Args, mem: TorrentMemory): Promise<Record<string, unknown>> {
    const fields = args.fields;
    if (fields === undefined) throw new RpcError('no fields specified');
    if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string')) throw new RpcError('"fields" must be a list of field names');
    const format = args.format ?? 'objects';
    if (format !== 'objects' && format !== 'table') throw new RpcError('"format" must be "objects" or "table"');
    const rows = await this.#observe();
    const chosen = this.ids.select(rows, args.ids);
    // Unknown names are skipped, as Transmission does (clients ask newer servers' fields of older ones).
    const keys = [...new Set(fields as string[])].filter((f) => Object.hasOwn(TORRENT_FIELDS, f));
    const ctx = this.#viewContext(rows, mem);
    const getters = keys.map((k) => TORRENT_FIELDS[k]!);
    // Objects filled key by key (one shape for all): a list poll builds 10,000 of them.
    const torrents: unknown[] = format === 'table' ? [keys] : [];
    for (const r of chosen) {
      const v = new TorrentView(r, ctx);
      if (format === 'table') torrents.push(getters.map((get) => get(v, ctx)));
      else {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) o[keys[i]!] = getters[i]!(v, ctx);
        torrents.push(o);
      }
    }
    return args.ids === 'recently-active' ? { torrents, removed: this.ids.recentlyRemoved() } : { torrents };
  }

  async #torrentAdd(args: Args): Promise<Record<string, unknown>> {
    const filename = str(args, 'filename') ?? '';
    const metainfo = str(args, 'metainfo') ?? '';
    if (filename === '' && metainfo === '') throw new RpcError('no filename or metainfo specified');
    const savePath = absolutePath(args, 'download-dir', 'download directory');
    const paused = bool(args, 'paused');
    const labels = strings(args, 'labels');
    const wanted = indexes(args, 'files-wanted');
    const unwanted = indexes(args, 'files-unwanted');
    const split = labels === undefined ? undefined : splitLabels(labels, this.#ops.categories().map((c) => c.name), null);

    let source: { uri: string } | { torrent: Uint8Array };
    if (metainfo !== '' && filename === '') {
      if (!/^[A-Za-z0-9+/=\s_-]+$/.test(metainfo)) throw new RpcError('"metainfo" is not base64');
      source = { torrent: Buffer.from(metainfo, 'base64') };
    } else if (/^(magnet:|https?:\/\/)/i.test(filename.trim()) || /^([0-9a-f]{40}|[a-z2-7]{32})$/i.test(filename.trim())) {
      source = { uri: filename.trim() };
    } else {
      throw new RpcError('unrecognized info: "filename" must be a magnet link, an infohash or an http(s) URL of a .torrent (send a local .torrent file in "metainfo", base64)');
    }
    const added = await this.#ops.add({
      ...source,
      ...(savePath !== undefined ? { savePath } : {}),
      ...(paused !== undefined ? { paused } : {}),
      ...(split?.category ? { category: split.category } : {}),
      ...(split && split.tags.length > 0 ? { tags: split.tags } : {}),
    });
    if (!added.existing && (wanted !== undefined || unwanted !== undefined)) {
      // Only a .torrent's files are known at once; a magnet's wait for its metadata (set them then with torrent-set).
      const info = this.#ops.info(added.infoHash);
      if (info.files !== null) await this.methods['torrent-set']!({ ids: [added.infoHash], ...(wanted ? { 'files-wanted': wanted } : {}), ...(unwanted ? { 'files-unwanted': unwanted } : {}) });
    }
    const rows = await this.#observe();
    const row = rows.find((r) => r.infoHash === added.infoHash);
    const torrent = { hashString: added.infoHash, id: this.ids.idOf(added.infoHash), name: added.name ?? row?.name ?? added.infoHash };
    return added.existing ? { 'torrent-duplicate': torrent } : { 'torrent-added': torrent };
  }
}
