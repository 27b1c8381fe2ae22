// Content ids on the node (issue 15): each complete file's SHA-256 and CID, computed once the node
// holds the whole file (a share it created, a finished download, data verified at start) and kept in
// the state DB. That pass reads the file back, so it runs at idle time (IdlePacer: a trickle while the
// node moves data, issue 40), and a one-shot `cascade download` makes it only when asked (a download
// by content id) — the file is not read twice before the command exits; the node's signed DHT records for its complete public torrents, republished while
// it runs; and search — the local library first, then the DHT. The same read gives each file's
// UnixFS CID (issue 61: the chunks' digests, from which ipfs-blocks.ts serves its DAG at /ipfs/).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { cidFromSha256, DhtRecords, isContentId, isUnixfsCid, keywordsOf, UnixfsTree, magnetOfRow, RecordError, recordKey, REPUBLISH_MS, Reputation, type DhtTransport, type PublishResult, type SearchRow, type TorrentStatement } from '@cascade/content';
import { hashFile } from '@cascade/content/node';
import type { TorrentHandle } from '@cascade/engine';
import { NodeError, errorMessage, InvalidInput } from '@cascade/node/basics';
import {
  IdlePacer, nodeIdentity, sessionBytesMoved,
  type ContentIdMode, type ContentIds, type ContentIdsHost, type OnPublished, type TorrentExtras,
} from '@cascade/node/content-host';
import { FileCids, publishedRoots, unixfsRootsOf, type FileCid } from './file-cids.ts';
import { IpfsBlocks, type HeldFile, type HeldFolder } from './ipfs-blocks.ts';
import { Recent } from './recent.ts';

/** Past this many files a torrent's folder gets no UnixFS directory: building one reads every file's
 *  chunk digests from the state (folders past IPFS's shard threshold, a few thousand entries, are
 *  HAMT shards: unixfs-hamt.ts). */
const MAX_FOLDER_FILES = 10_000;

/** A torrent the node may serve files of: its metainfo, each file's progress and where it is. */
interface Held {
  m: NonNullable<TorrentHandle['metainfo']>;
  progress: readonly number[] | undefined;
  /** Without per-file progress: the whole torrent is complete. */
  done: boolean;
  savePath: string;
}

/** What content ids need of the node: the session and state, every torrent's events, the log, the
 *  listing's change signal, and which torrents are private shares (never indexed or published). */
export type ContentNode = ContentIdsHost;
export type { ContentIdMode };

/** The node's content ids, as the layer that starts it loads them (startNode's `contentIds`):
 *  following its torrents from now on, and those it follows already. */
export function openContentIds(node: ContentNode, mode: ContentIdMode): NodeContent {
  const content = new NodeContent(node);
  content.follow(mode);
  return content;
}

/** The content id of every empty file. */
const EMPTY_SHA256 = new Uint8Array(createHash('sha256').digest());
const EMPTY = { sha256: EMPTY_SHA256, cid: cidFromSha256(EMPTY_SHA256), unixfs: cidFromSha256(EMPTY_SHA256), chunks: EMPTY_SHA256 };

/** Content ids one record carries: keeps a record of a long name under the 1000-byte cap. */
const CIDS_PER_RECORD = 12;
/** A record's name is at most 200 bytes; longer names are cut (on a character boundary). */
const NAME_BYTES = 200;

export class NodeContent implements ContentIds {
  readonly cids: FileCids;
  /** The files' UnixFS DAGs as IPFS blocks and CARs (GET /ipfs/<cid>). */
  readonly ipfs: IpfsBlocks;
  /** The DHT records client; undefined when the node runs without a DHT. */
  readonly records: DhtRecords | undefined;
  readonly #node: ContentNode;
  readonly #indexing = new Map<string, Promise<void>>();
  /** Torrents whose pass someone waits for: read at full speed. */
  readonly #urgent = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  /** Content ids the node expects a torrent to hold (an add by content id) and who said so. */
  readonly #expected = new Map<string, { cid: string; publisher: string }[]>();
  /** false for a node that computes content ids only on demand (a one-shot download). */
  #publishes = true;
  /** Torrents published from index() in the last 5 minutes (a seed says 'done' at every start). */
  readonly #published = new Recent(5 * 60_000);
  #closed = false;
  /** Told each time index() has published a torrent's records (`cascade seed` prints it). */
  onPublished: OnPublished | undefined;
  /** This node's did: its own records are what it computed, never blamed. */
  readonly #did: string;
  readonly #pacer: IdlePacer;

  constructor(node: ContentNode) {
    this.#node = node;
    this.#pacer = new IdlePacer(sessionBytesMoved(node.session));
    this.cids = new FileCids(node.db);
    this.ipfs = new IpfsBlocks(this.cids, (ih, index) => this.#heldFile(ih, index), (ih) => this.#heldFolder(ih));
    // A torrent's content ids are in memory while it is loaded (the detail view reads them at once).
    node.onTorrentEvent('tracked', (t) => void this.cids.load(t.infoHashHex).catch((err: unknown) => node.out.note(`content ids of ${t.infoHashHex}: ${errorMessage(err)}`)));
    // Removed: what it had waiting to be published on the DHT goes too (records.ts forget()).
    node.onTorrentEvent('untracked', (t) => (this.cids.forget(t.infoHashHex), this.records?.forget(t.infoHashHex), this.#published.forget(t.infoHashHex)));
    // Loaded after the node started (a one-shot download asked for a content id): those tracked already.
    for (const t of this.#tracked()) void this.cids.load(t.infoHashHex).catch((err: unknown) => node.out.note(`content ids of ${t.infoHashHex}: ${errorMessage(err)}`));
    const identity = nodeIdentity(node.db);
    this.#did = identity.did;
    const dht = node.session.dhtQueries;
    if (dht) {
      const note = (err: unknown) => node.out.note(`DHT blames: ${errorMessage(err)}`);
      const reputation = new Reputation([], (b) => void this.cids.addBlame(b).catch(note));
      // Read before the DHT has been joined (its first look-ups are seconds away): publishers
      // caught before stay ignored.
      void this.cids.blames().then((known) => known.forEach((b) => reputation.remember(b)), note);
      this.records = new DhtRecords({ dht: dht as DhtTransport, identity, knownCids: (ih) => this.knownCids(ih), knownUnixfs: (ih) => this.knownUnixfs(ih), reputation });
      this.records.keepPublished(() => this.statements(), { everyMs: REPUBLISH_MS, onError: (err) => node.out.note(`DHT records: ${errorMessage(err)}`) });
    }
  }

  /** Indexes a torrent's files whenever it completes (and when tracked, if it already has);
   *  'on-demand' leaves that to contentFile(). */
  follow(mode: ContentIdMode = 'background'): void {
    // A one-shot download will not serve the file: it says nothing of it on the DHT either (a
    // record naming it as a provider would outlive the process by hours).
    this.#publishes = mode === 'background';
    if (mode === 'on-demand') return;
    this.#node.onTorrentEvent('done', (t) => void this.index(t));
    const complete = (t: TorrentHandle) => {
      if (t.stats().progress >= 1 && t.metainfo) void this.index(t);
    };
    this.#node.onTorrentEvent('tracked', complete);
    for (const t of this.#tracked()) complete(t);
  }

  #tracked(): TorrentHandle[] {
    return this.#node.session.list().filter((t) => this.#node.isTracked(t.infoHashHex));
  }

  /** Computes the missing content ids of a torrent's complete files, then publishes it if it is
   *  public. `urgent`: someone waits for the answer (a download by content id), so no idle pacing. */
  index(t: TorrentHandle, urgent = false): Promise<void> {
    const ih = t.infoHashHex;
    const running = this.#indexing.get(ih);
    if (running) {
      if (urgent) this.#urgent.add(ih);
      return running;
    }
    if (urgent) this.#urgent.add(ih);
    // One torrent at a time: at the first start after an upgrade every seed's files are read once,
    // in turn, not all at once.
    const job = this.#queue
      .then(() => this.#index(t))
      .catch((err: unknown) => {
        // A pass cut short by close() is simply not finished: the next start does it.
        if (!this.#closed) this.#node.out.note(`content ids of ${ih}: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.#indexing.delete(ih);
        this.#urgent.delete(ih);
      });
    this.#queue = job;
    this.#indexing.set(ih, job);
    return job;
  }

  async #index(t: TorrentHandle): Promise<void> {
    const m = t.metainfo;
    const ih = t.infoHashHex;
    // A private share's bytes on disk are ciphertext: no content id names them, and none is published.
    if (!m || this.#node.privateShares.isShare(ih)) return;
    // The library's save path; `cascade seed` runs its torrent before storing it (only data that
    // checks out joins the library), so the torrent's own is the one then.
    const savePath = this.#node.db.getTorrent(ih)?.savePath ?? t.savePath;
    if (!savePath) return;
    await this.cids.load(ih);
    const known = this.cids.of(ih);
    // Files hashed before UnixFS CIDs were kept (schema 25) are read once more, at idle time.
    const knownUnixfs = this.cids.unixfsOf(ih);
    const progress = (t as TorrentHandle & TorrentExtras).fileProgress?.();
    const whole = t.stats().progress >= 1 && (t.wantsAllFiles?.() ?? true);
    const fresh: FileCid[] = [];
    try {
      for (const [index, f] of m.files.entries()) {
        if (f.pad || (known.has(index) && knownUnixfs.has(index)) || !(progress ? (progress[index] ?? 0) >= 1 : whole)) continue;
        if (this.#closed) break;
        // Every empty file has the same id: nothing to open, nothing new to allocate.
        if (f.length === 0) {
          fresh.push({ index, ...EMPTY });
          continue;
        }
        // A torrent of many small files: a macrotask now and then, so the node's requests go on.
        if (fresh.length % 256 === 255) await new Promise((r) => setImmediate(r));
        const path = m.multiFile ? join(savePath, m.name, ...f.path) : join(savePath, m.name);
        // One read for both ids: the file's SHA-256 and its 1 MiB chunks' (the UnixFS leaves).
        const { sha256, length, chunks } = await hashFile(path, f.length, {
          beforeSlice: () => (this.#urgent.has(ih) ? undefined : this.#pacer.beforeSlice()),
          aborted: () => this.#closed,
        });
        fresh.push({ index, sha256, cid: cidFromSha256(sha256), unixfs: new UnixfsTree(length, chunks).root.toString(), chunks });
      }
    } finally {
      // Stopped half-way (the node closing, a file gone): what was hashed is kept, the rest is
      // done at the next start.
      if (fresh.length > 0 && this.#closed) await this.cids.set(ih, fresh);
    }
    if (this.#closed) return;
    if (fresh.length > 0) {
      await this.cids.set(ih, fresh);
      this.ipfs.forget(ih);
    }
    // A multi-file torrent's folder as a UnixFS directory, once its files all have their CIDs.
    if (m.multiFile && (fresh.length > 0 || !this.cids.dirOf(ih)) && !this.#closed) await this.#indexFolder(ih);
    if (fresh.length > 0) {
      this.#node.changed();
      // Now that the node knows what the torrent holds, read what publishers said about it: a
      // record that contradicts the bytes is dropped and its publisher ignored from then on.
      if (this.records) void this.#checkOthers(m.version === 'v2' ? null : ih, m.infoHashV2Hex ?? null);
    }
    this.#checkExpected(ih);
    const s = this.statement(t);
    if (!s || !this.records || this.#closed || !this.#publishes) return;
    // The republish timer covers the rest; a completion seen twice in a row publishes once.
    if (fresh.length === 0 && this.#published.has(ih)) return;
    this.#published.note(ih);
    // Not awaited: the next torrent's hashing need not wait for this one's DHT walks.
    void this.records.publish(s).then(
      (r) => this.onPublished?.(t, s, r),
      (err: unknown) => this.#node.out.note(`DHT records of ${ih}: ${errorMessage(err)}`),
    );
  }

  /**
   * For a download by content id: `publisher` said torrent `infoHash` holds `cid`. When the torrent
   * is complete and its files hashed, a publisher whose claim was false is ignored from then on.
   */
  expectContent(infoHash: string, cid: string, publisher: string): void {
    // Not added yet: a v2-only torrent's id will be its v2 hash cut to 40 digits (a hybrid's is its v1 hash).
    const given = infoHash.toLowerCase();
    const ih = this.#torrentByAnyHash(given)?.infoHashHex ?? given.slice(0, 40);
    if (publisher === this.#did) return;
    const list = this.#expected.get(ih) ?? [];
    if (list.length < 16) list.push({ cid, publisher });
    this.#expected.set(ih, list);
    const t = this.#node.session.get(ih);
    if (t) this.#checkExpected(ih);
  }

  /**
   * For `download <content id>` (and adds by content id): the torrent the DHT says holds `cid` — the
   * one with the most providers — as a magnet naming them as peers. Every publisher who said a
   * torrent holds it is remembered (expectContent): once the download is hashed, those proven wrong
   * are ignored from then on. Throws a NodeError when the DHT is off or knows nothing of it.
   */
  async findContent(cid: string): Promise<{ magnet: string; row: SearchRow; rows: SearchRow[] }> {
    if (!this.records) throw new NodeError('failed', 'downloading by content id needs the DHT: start without --no-dht (and --dht-bootstrap HOST:PORT of any Cascade node)');
    const rows = (await this.records.resolveContentId(cid)).sort((x, y) => y.providers.length - x.providers.length);
    const row = rows[0];
    if (!row) throw new NodeError('not-found', `no torrent with content id ${cid} was found on the DHT (nobody publishes it, or the DHT is not joined yet)`);
    for (const r of rows) this.expectContent(r.infoHash ?? r.infoHashV2!.slice(0, 40), cid, r.publisher);
    return { magnet: magnetOfRow(row), row, rows };
  }

  /**
   * After a download by content id: hashes the torrent's complete files (if not done yet) and returns
   * the path of the one whose bytes are `cid`, or undefined when none is (its publisher is then
   * ignored, see expectContent).
   */
  async contentFile(t: TorrentHandle, cid: string): Promise<string | undefined> {
    await this.index(t, true);
    const m = t.metainfo;
    const savePath = this.#node.db.getTorrent(t.infoHashHex)?.savePath;
    if (!m || !savePath) return undefined;
    for (const [index, c] of this.cids.of(t.infoHashHex)) {
      const f = m.files[index];
      if (c === cid && f) return m.multiFile ? join(savePath, m.name, ...f.path) : join(savePath, m.name);
    }
    return undefined;
  }

  /** A complete file of a torrent the node may serve to anyone (not private, not a private share,
   *  not looked up through onion circuits only), where it is on disk. */
  #heldFile(ih: string, index: number): HeldFile | undefined {
    const held = this.#held(ih);
    return held && this.#fileIn(held, index);
  }

  /** What every file of a torrent the node may serve shares (see #heldFile), looked up once: a
   *  folder of 100,000 files asked each file's progress of all files (minutes of CPU). */
  #held(ih: string): Held | undefined {
    const t = this.#node.session.get(ih);
    const m = t?.metainfo;
    if (!t || !m || m.private || this.#node.privateShares.isShare(ih)) return undefined;
    const rec = this.#node.db.getTorrent(ih);
    if (rec?.privateDiscovery || t.privateDiscovery === true) return undefined;
    const savePath = rec?.savePath ?? t.savePath;
    if (!savePath) return undefined;
    const progress = (t as TorrentHandle & TorrentExtras).fileProgress?.();
    return { m, progress, done: progress ? false : t.stats().progress >= 1, savePath };
  }

  #fileIn(held: Held, index: number): HeldFile | undefined {
    const { m, progress, done, savePath } = held;
    const f = m.files[index];
    if (!f || f.pad) return undefined;
    if (!(progress ? (progress[index] ?? 0) >= 1 : done)) return undefined;
    return { path: m.multiFile ? join(savePath, m.name, ...f.path) : join(savePath, m.name), length: f.length };
  }

  /** All of a multi-file torrent's files, when the node may serve them (see #heldFile) and holds each. */
  #heldFolder(ih: string): HeldFolder | undefined {
    const held = this.#held(ih);
    if (!held?.m.multiFile) return undefined;
    const out: HeldFolder = [];
    for (const [index, f] of held.m.files.entries()) {
      if (f.pad) continue;
      if (!this.#fileIn(held, index)) return undefined;
      out.push({ path: f.path, index });
    }
    return out;
  }

  async #indexFolder(ih: string): Promise<void> {
    const m = this.#node.session.get(ih)?.metainfo;
    const unixfs = this.cids.unixfsOf(ih);
    if (!m || m.files.some((f, i) => !f.pad && !unixfs.has(i))) return;
    if (m.files.length > MAX_FOLDER_FILES) {
      this.#node.out.note(`content ids of ${ih}: a folder of ${m.files.length} files gets no UnixFS directory (more than ${MAX_FOLDER_FILES}); its files are served by their own CIDs`);
      return;
    }
    try {
      const dir = await this.ipfs.folder(ih);
      if (!dir) return;
      await this.cids.setDir(ih, dir.root.toString(), dir.root.multihash.digest, dir.innerNodes().map((n) => ({ cid: n.cid.toString(), digest: n.cid.multihash.digest })));
    } catch (err) {
      // Its files are then served by their own CIDs only. Nothing here stops the files' own ids
      // from being shown and published.
      this.#node.out.note(`content ids of ${ih}: its folder's UnixFS CID: ${errorMessage(err)}`);
    }
  }

  /** Whether the torrent's hashed files hold every content id expected of it (undefined: not hashed yet). */
  #checkExpected(ih: string): void {
    const list = this.#expected.get(ih);
    const t = this.#node.session.get(ih);
    if (!list || !t || t.stats().progress < 1) return;
    const have = new Set(this.cids.of(ih).values());
    // Only a torrent whose every file is hashed can say a content id is not in it.
    const files = t.metainfo?.files.filter((f) => !f.pad).length ?? Infinity;
    if (this.cids.of(ih).size < files) return;
    for (const { cid, publisher } of list) {
      if (!have.has(cid)) this.records?.reputation.blame(publisher, `torrent ${ih} has no file with content id ${cid}`);
    }
    this.#expected.delete(ih);
  }

  async #checkOthers(infoHash: string | null, infoHashV2: string | null): Promise<void> {
    for (const h of [infoHash, infoHashV2]) {
      if (h && this.records && !this.#closed) await this.records.lookup(recordKey('info_hash_idx', h)).catch(() => {});
    }
  }

  /** What the node says about a torrent on the DHT; undefined for one it must not publish (private,
   *  private discovery, private share) or does not hold complete. */
  statement(t: TorrentHandle): TorrentStatement | undefined {
    const m = t.metainfo;
    const ih = t.infoHashHex;
    if (!m || m.private || t.stats().progress < 1) return undefined;
    if (this.#node.db.getTorrent(ih)?.privateDiscovery || t.privateDiscovery === true || this.#node.privateShares.isShare(ih)) return undefined;
    const cids = [...this.cids.of(ih).values()];
    if (cids.length === 0) return undefined;
    return {
      name: cutName(m.name),
      length: m.length,
      infoHash: m.version === 'v2' ? null : m.infoHashHex,
      infoHashV2: m.infoHashV2Hex ?? null,
      cids: cids.slice(0, CIDS_PER_RECORD),
      // What `ipfs add` names them by (the folder first): searchable on the DHT by either id (issue 61).
      unixfsCids: publishedRoots(this.cids, ih),
      port: this.#node.session.port,
    };
  }

  statements(): TorrentStatement[] {
    if (!this.#publishes) return [];
    return this.#node.session.list().flatMap((t) => this.statement(t) ?? []);
  }

  /** The content ids of a torrent this node holds (by v1 or v2 infohash), for checking others' records. */
  knownCids(infoHash: string): string[] | undefined {
    const t = this.#torrentByAnyHash(infoHash);
    if (!t || t.stats().progress < 1) return undefined;
    const cids = this.cids.of(t.infoHashHex);
    return cids.size > 0 ? [...cids.values()] : undefined;
  }

  /** The UnixFS CIDs of a complete torrent this node holds, once all are computed (else undefined). */
  knownUnixfs(infoHash: string): string[] | undefined {
    const t = this.#torrentByAnyHash(infoHash);
    return t && t.stats().progress >= 1 ? unixfsRootsOf(this.cids, t.infoHashHex) : undefined;
  }

  /** Rows for a query (words, a content id, an infohash): the node's own library, then the DHT. */
  /** Files `s` under its keys now (a market listing, issue 62: @cascade/market republishes it). */
  async publish(s: TorrentStatement): Promise<PublishResult> {
    if (!this.records) throw new NodeError('failed', 'publishing on the DHT needs the DHT: start without --no-dht');
    return this.records.publish(s);
  }

  async search(query: string, signal?: AbortSignal): Promise<SearchRow[]> {
    const q = query.trim();
    const local = await this.localRows(q);
    let remote: SearchRow[] = [];
    if (this.records) {
      try {
        remote = await this.records.search(q, signal);
      } catch (err) {
        if (err instanceof RecordError) throw new InvalidInput(err.message);
        throw err;
      }
    } else if (!isContentId(q) && !isUnixfsCid(q) && !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(q) && keywordsOf(q).length === 0) {
      throw new InvalidInput(`nothing to search for in ${JSON.stringify(query)} (words of 2 letters or more, a content id or an infohash)`);
    }
    const seen = new Set(local.map(rowId));
    return [...local, ...remote.filter((r) => !seen.has(rowId(r)))];
  }

  /** Matches in the node's own library, described as its records describe them. */
  async localRows(q: string): Promise<SearchRow[]> {
    let hits: TorrentHandle[];
    if (isContentId(q) || isUnixfsCid(q)) {
      hits = (await this.cids.withCid(q)).flatMap((h) => this.#node.session.get(h.infoHash) ?? []);
    } else if (/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(q)) {
      const t = this.#torrentByAnyHash(q.toLowerCase());
      hits = t ? [t] : [];
    } else {
      const words = keywordsOf(q);
      hits = words.length === 0 ? [] : this.#node.session.list().filter((t) => {
        const name = keywordsOf(t.metainfo?.name ?? t.stats().name ?? '');
        return words.every((w) => name.includes(w));
      });
    }
    const did = this.#did;
    return [...new Set(hits)].flatMap((t) => {
      const m = t.metainfo;
      if (this.#node.privateShares.isShare(t.infoHashHex)) return [];
      return [{
        infoHash: m?.version === 'v2' ? null : t.infoHashHex,
        infoHashV2: m?.infoHashV2Hex ?? null,
        name: m?.name ?? t.stats().name ?? '',
        length: m?.length ?? 0,
        cids: [...this.cids.of(t.infoHashHex).values()],
        publisher: did,
        providers: [],
      }];
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.records?.close();
    await Promise.allSettled([...this.#indexing.values()]);
  }

  #torrentByAnyHash(hex: string): TorrentHandle | undefined {
    const h = hex.toLowerCase();
    if (h.length === 40) return this.#node.session.get(h);
    return this.#node.session.list().find((t) => t.metainfo?.infoHashV2Hex === h) ?? this.#node.session.get(h.slice(0, 40));
  }
}

function rowId(r: SearchRow): string {
  return `${r.publisher} ${r.infoHash ?? r.infoHashV2}`;
}

function cutName(name: string): string {
  const enc = new TextEncoder();
  if (enc.encode(name).length <= NAME_BYTES) return name;
  let out = '';
  for (const ch of name) {
    if (enc.encode(out + ch).length > NAME_BYTES) break;
    out += ch;
  }
  return out;
}
