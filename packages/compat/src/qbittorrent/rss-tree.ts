// qBittorrent's RSS items are a tree of folders and feeds named by paths ("News\Linux"), with the
// root folder's path "". Cascade's feeds are a flat list with ids, so the tree is a layer this
// door keeps beside the node's RSS state (RssOps.feedTree): the folders a remote made and the path
// of each feed it named. A feed Cascade knows but the tree does not (added through Cascade's API or
// web app) sits at the root under its URL, as qBittorrent names a feed added without a path; a
// path whose feed is gone is forgotten. Errors are Session's (rss_session.cpp of 5.0), as 409s.
import type { RssFeed, RssOps } from '../ops.ts';
import { conflict } from './http.ts';

export const SEP = '\\';

/** What is stored: folders (their paths) and each feed's path by Cascade's feed id. */
interface StoredTree {
  folders: string[];
  feeds: Record<string, string>;
}

export type TreeItem = { kind: 'folder'; path: string } | { kind: 'feed'; path: string; feed: RssFeed };

/** Item::isValidPath: one or more non-empty names joined by the separator. */
export function isValidPath(path: string): boolean {
  return path !== '' && path.split(SEP).every((part) => part !== '');
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf(SEP);
  return i >= 0 ? path.slice(0, i) : '';
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf(SEP) + 1);
}

function storedTree(v: unknown): StoredTree {
  const o = v && typeof v === 'object' ? (v as Partial<StoredTree>) : {};
  const folders = Array.isArray(o.folders) ? o.folders.filter((f): f is string => typeof f === 'string' && isValidPath(f)) : [];
  const feeds: Record<string, string> = {};
  if (o.feeds && typeof o.feeds === 'object') for (const [id, p] of Object.entries(o.feeds)) if (typeof p === 'string' && isValidPath(p)) feeds[id] = p;
  return { folders, feeds };
}

/** The tree now: Cascade's feeds placed by the stored paths, with every folder they need. */
export class RssTree {
  readonly #ops: RssOps;
  readonly folders = new Set<string>();
  readonly #feeds = new Map<string, RssFeed>();

  private constructor(ops: RssOps) {
    this.#ops = ops;
  }

  /** The tree as stored, with the node's feeds now. */
  static async load(ops: RssOps): Promise<RssTree> {
    const tree = new RssTree(ops);
    tree.#place(storedTree(await ops.feedTree()), await ops.feeds());
    return tree;
  }

  #place(stored: StoredTree, feeds: RssFeed[]): void {
    for (const f of stored.folders) this.#addFolderChain(f);
    const unplaced: RssFeed[] = [];
    for (const feed of feeds) {
      const path = stored.feeds[String(feed.id)];
      if (path !== undefined && !this.#taken(path)) {
        this.#addFolderChain(parentPath(path));
        this.#feeds.set(path, feed);
      } else unplaced.push(feed);
    }
    for (const feed of unplaced) {
      let path = feed.url.replaceAll(SEP, '/');
      if (this.#taken(path)) path = `${path} (${feed.id})`;
      this.#feeds.set(path, feed);
    }
  }

  #addFolderChain(path: string): void {
    for (let p = path; p !== ''; p = parentPath(p)) this.folders.add(p);
  }

  #taken(path: string): boolean {
    return this.folders.has(path) || this.#feeds.has(path);
  }

  item(path: string): TreeItem | undefined {
    if (path === '' || this.folders.has(path)) return { kind: 'folder', path };
    const feed = this.#feeds.get(path);
    return feed ? { kind: 'feed', path, feed } : undefined;
  }

  feedPaths(): [string, RssFeed][] {
    return [...this.#feeds];
  }

  feedByUrl(url: string): RssFeed | undefined {
    for (const f of this.#feeds.values()) if (f.url === url) return f;
    return undefined;
  }

  pathOfFeed(id: number): string | undefined {
    for (const [p, f] of this.#feeds) if (f.id === id) return p;
    return undefined;
  }

  /** The feeds at or below `path` ("" = all). */
  feedsUnder(path: string): RssFeed[] {
    return [...this.#feeds].filter(([p]) => path === '' || p === path || p.startsWith(path + SEP)).map(([, f]) => f);
  }

  /** The direct children of a folder: folders first (by name), then feeds (oldest first). */
  children(folder: string): TreeItem[] {
    const folders = [...this.folders].filter((p) => parentPath(p) === folder).sort();
    const feeds = [...this.#feeds].filter(([p]) => parentPath(p) === folder).sort(([, a], [, b]) => a.id - b.id);
    return [...folders.map((path) => ({ kind: 'folder' as const, path })), ...feeds.map(([path, feed]) => ({ kind: 'feed' as const, path, feed }))];
  }

  /** Session::prepareItemDest: a new item may go at `path`. */
  checkDest(path: string): void {
    if (!isValidPath(path)) throw conflict(`Incorrect RSS Item path: ${path}.`);
    if (this.#taken(path)) throw conflict(`RSS item with given path already exists: ${path}.`);
    const parent = parentPath(path);
    if (parent !== '' && !this.folders.has(parent)) throw conflict(`Parent folder doesn't exist: ${parent}.`);
  }

  addFolder(path: string): Promise<void> {
    this.checkDest(path);
    this.folders.add(path);
    return this.save();
  }

  placeFeed(path: string, feed: RssFeed): Promise<void> {
    this.#feeds.set(path, feed);
    return this.save();
  }

  /** Forgets an item and everything below it (the caller removed the feeds from the node). */
  forget(path: string): Promise<void> {
    for (const p of [...this.folders]) if (p === path || p.startsWith(path + SEP)) this.folders.delete(p);
    for (const p of [...this.#feeds.keys()]) if (p === path || p.startsWith(path + SEP)) this.#feeds.delete(p);
    return this.save();
  }

  /** Session::moveItem: the item and everything below it take the new path. */
  move(from: string, to: string): Promise<void> {
    if (from === '') throw conflict('Cannot move root folder.');
    const item = this.item(from);
    if (!item) throw conflict(`Item doesn't exist: ${from}.`);
    this.checkDest(to);
    if (item.kind === 'folder' && (parentPath(to) === from || to.startsWith(from + SEP))) throw conflict("Couldn't move folder into itself.");
    const moved = (p: string) => (p === from ? to : p.startsWith(from + SEP) ? to + p.slice(from.length) : p);
    const folders = [...this.folders].map(moved);
    this.folders.clear();
    for (const f of folders) this.folders.add(f);
    const feeds = [...this.#feeds].map(([p, f]) => [moved(p), f] as const);
    this.#feeds.clear();
    for (const [p, f] of feeds) this.#feeds.set(p, f);
    return this.save();
  }

  save(): Promise<void> {
    const feeds: Record<string, string> = {};
    for (const [p, f] of this.#feeds) feeds[String(f.id)] = p;
    // Folders that a feed's path implies need not be stored, but empty ones must: all are kept.
    return this.#ops.setFeedTree({ folders: [...this.folders].sort(), feeds } satisfies StoredTree);
  }
}
