// A node's seam to its content ids (issue 15; issue 64: they are @cascade/content-node, above the
// node): each complete file's content id, the node's signed DHT records and search. The layer that
// starts a node hands in how to load them (startNode's `contentIds`: its dynamic import()); a node
// that computes them as torrents complete ('background': serve, seed, download --seed) loads them
// at its start, one that computes them only when asked ('on-demand': a one-shot download) the first
// time it is asked (a download or add by content id, a search). The node keeps this as
// `node.content` (NodeContentIds, below): until they are loaded no file has a content id.

import type { PublishResult, SearchRow, TorrentStatement } from '@cascade/content';
import type { TorrentHandle } from './engine.ts';
import type { NodeCore, NodeLog, TorrentEvents } from './node-parts.ts';
import { NodeError } from '@cascade/node-state/errors';

/** When the node computes content ids: 'background' as torrents complete (at idle time), or
 *  'on-demand' only (contentFile: a one-shot download that will not serve the file). */
export type ContentIdMode = 'background' | 'on-demand';

/** What content ids are handed: the session and state, every torrent's events, the log, the
 *  listing's change signal, and which torrents are private shares (never indexed or published). */
export interface ContentIdsHost extends NodeCore, TorrentEvents {
  readonly out: NodeLog;
  readonly privateShares: { isShare(infoHash: string): boolean };
  changed(): void;
}

/** The content ids of a loaded torrent's files, by file index (in index order). */
export interface CidsView {
  of(infoHash: string): ReadonlyMap<number, string>;
  /** The files' UnixFS CIDs (issue 61), by file index; empty until computed. */
  unixfsOf?(infoHash: string): ReadonlyMap<number, string>;
  /** A multi-file torrent's folder's UnixFS CID, once its files all have theirs. */
  dirOf?(infoHash: string): string | undefined;
  load(infoHash: string): Promise<void>;
  forget(infoHash: string): void;
}

/** The torrent the DHT says holds a content id, as a magnet naming its providers. */
export interface FoundContent {
  magnet: string;
  row: SearchRow;
  rows: SearchRow[];
}

/** Told each time a torrent's records were published (`cascade seed` prints it). */
export type OnPublished = (t: TorrentHandle, s: TorrentStatement, r: PublishResult) => void;

/** The node's files as IPFS blocks (GET /ipfs/<cid>, issue 61): a block's bytes, or a CARv1 of the
 *  DAG under a CID; undefined when the node holds no such block; a malformed CID throws. */
export interface IpfsBlockSource {
  block(cid: string, path?: readonly string[]): Promise<Uint8Array | undefined>;
  car(cid: string, scope?: 'all' | 'entity' | 'block', path?: readonly string[], bytes?: { from: number; to: number | null }): Promise<AsyncIterable<Uint8Array> | undefined>;
}

/** What @cascade/content-node gives the node once loaded (its NodeContent). */
export interface ContentIds {
  readonly cids: CidsView;
  readonly ipfs?: IpfsBlockSource;
  onPublished: OnPublished | undefined;
  search(query: string, signal?: AbortSignal): Promise<SearchRow[]>;
  /** Files a statement of this node's on the DHT (a market listing's record, issue 62). */
  publish?(s: TorrentStatement): Promise<PublishResult>;
  findContent(cid: string): Promise<FoundContent>;
  contentFile(t: TorrentHandle, cid: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** How the layer starting a node loads its content ids: `() => import('@cascade/content-node')
 *  .then((m) => m.openContentIds)`. */
export type LoadContentIds = () => Promise<(host: ContentIdsHost, mode: ContentIdMode) => ContentIds>;

const NONE: ReadonlyMap<number, string> = new Map();

/** node.content: the loaded content ids' answers, or none's, and the loading. */
export class NodeContentIds {
  readonly #host: ContentIdsHost;
  readonly #load: LoadContentIds | undefined;
  readonly mode: ContentIdMode;
  #ids: ContentIds | undefined;
  #loading: Promise<ContentIds> | undefined;
  #onPublished: OnPublished | undefined;
  #closed = false;

  constructor(host: ContentIdsHost, load: LoadContentIds | undefined, mode: ContentIdMode = 'background') {
    this.#host = host;
    this.#load = load;
    this.mode = mode;
  }

  /** The content ids once loaded (tests read their records). */
  get loaded(): ContentIds | undefined {
    return this.#ids;
  }

  /** The content ids, loaded (once) if they are not yet. */
  ready(): Promise<ContentIds> {
    if (this.#ids) return Promise.resolve(this.#ids);
    const load = this.#load;
    if (!load) return Promise.reject(new NodeError('unusable', 'this node was started without content ids'));
    this.#loading ??= load().then((open) => {
      if (this.#closed) throw new NodeError('failed', 'the node is stopping');
      const ids = open(this.#host, this.mode);
      ids.onPublished = this.#onPublished;
      return (this.#ids = ids);
    });
    return this.#loading;
  }

  readonly cids: CidsView = {
    of: (infoHash) => this.#ids?.cids.of(infoHash) ?? NONE,
    unixfsOf: (infoHash) => this.#ids?.cids.unixfsOf?.(infoHash) ?? NONE,
    dirOf: (infoHash) => this.#ids?.cids.dirOf?.(infoHash),
    load: async (infoHash) => this.#ids?.cids.load(infoHash),
    forget: (infoHash) => this.#ids?.cids.forget(infoHash),
  };

  get onPublished(): OnPublished | undefined {
    return this.#onPublished;
  }

  set onPublished(fn: OnPublished | undefined) {
    this.#onPublished = fn;
    if (this.#ids) this.#ids.onPublished = fn;
  }

  /** Rows for a query (words, a content id, an infohash): the node's own library, then the DHT. */
  async search(query: string, signal?: AbortSignal): Promise<SearchRow[]> {
    return (await this.ready()).search(query, signal);
  }

  /** The torrent the DHT says holds `cid` (a download or add by content id). */
  async findContent(cid: string): Promise<FoundContent> {
    return (await this.ready()).findContent(cid);
  }

  /** After a download by content id: the path of its file whose bytes are `cid`, if one is. */
  async contentFile(t: TorrentHandle, cid: string): Promise<string | undefined> {
    return (await this.ready()).contentFile(t, cid);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#loading?.catch(() => {});
    await this.#ids?.close();
  }
}
