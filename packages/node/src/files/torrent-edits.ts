// What remotes change on one torrent (issue 45), once for every door (qBittorrent's Web API,
// Transmission RPC, Cascade's own): its name, its files' names on disk, its trackers, peers given
// by hand, and the order its pieces come in (sequential, first and last pieces first, files of
// high priority first). Names and trackers are stored and replayed at every load; the piece order
// lasts while the node runs (it is a reader's claim on the engine: see TorrentHandle.fetchPieces).

import type { NodeCore } from '../core/node-parts.ts';
import type { TorrentHandle } from '../core/engine.ts';
import { NodeError, conflict, errorMessage, invalid } from '@cascade/node-state/errors';
import { beginRename, endMove } from '@cascade/engine/move-journal';

type EditNode = Pick<NodeCore, 'db'>;

/** Longest name or path component a remote may give (most file systems stop at 255 bytes). */
const MAX_NAME = 255;

// ---- names ----

/** The name the torrent is shown with; null or '' = its own again. Works on stored torrents too. */
export async function setDisplayName(node: EditNode, infoHash: string, nameInput: unknown): Promise<string | null> {
  if (nameInput !== null && typeof nameInput !== 'string') throw invalid('a name must be text');
  const name = nameInput?.trim() || null;
  if (name !== null && (name.length > MAX_NAME || /[\0\n\r]/.test(name))) throw invalid(`not a torrent name: ${JSON.stringify(name)}`);
  if (!node.db.records.has(infoHash)) throw new NodeError('not-found', `no torrent ${infoHash}`);
  await node.db.records.setEdits(infoHash, { displayName: name });
  return name;
}

function components(p: unknown, what: string): string[] {
  if (typeof p !== 'string') throw invalid(`${what} must be a path`);
  const parts = p.split('/').filter((c) => c !== '');
  if (parts.length === 0) throw invalid(`${what} is empty`);
  for (const c of parts) {
    if (c === '.' || c === '..' || c.includes('\\') || c.includes('\0') || c.length > MAX_NAME) throw invalid(`${what} is not a usable path: ${JSON.stringify(p)}`);
  }
  return parts;
}

async function applyRenames(node: EditNode, t: TorrentHandle, renames: Record<number, string[]>): Promise<void> {
  if (!t.rename) throw conflict('this torrent cannot rename its files');
  // Journalled until the new names are stored, as a move is (move-journal.ts): a crash in between
  // puts the old names back at the next start, where the record still has them.
  const meta = t.metainfo;
  const stateDir = node.db.stateDir;
  if (meta) await beginRename(stateDir, t.infoHashHex, meta, t.savePath, renames, { ...(t.renamedFiles?.() ?? {}), ...renames }).catch((err: unknown) => {
    throw conflict(errorMessage(err));
  });
  try {
    await t.rename(renames);
  } catch (err) {
    await endMove(stateDir, t.infoHashHex, 'rename');
    throw conflict(errorMessage(err));
  }
  await node.db.records.setEdits(t.infoHashHex, { renamedFiles: t.renamedFiles?.() ?? null });
  await endMove(stateDir, t.infoHashHex, 'rename');
}

/**
 * Renames a file or a folder of the torrent on disk: `from` and `to` are paths below the torrent's
 * folder ('sub/a.bin'), as its file list shows them. A folder takes every file below it along.
 * `kind` says which of the two the caller means (qBittorrent's renameFile / renameFolder).
 */
export async function renamePath(node: EditNode, t: TorrentHandle, fromInput: unknown, toInput: unknown, kind: 'file' | 'folder' | 'either' = 'either'): Promise<void> {
  const meta = t.metainfo;
  if (!meta) throw conflict('the torrent’s metadata is not known yet; rename files once it is');
  const from = components(fromInput, 'the old path');
  const to = components(toInput, 'the new path');
  const fromKey = from.join('/');
  const renames: Record<number, string[]> = {};
  let file = false;
  meta.files.forEach((f, i) => {
    if (f.pad) return;
    const key = f.path.join('/');
    if (key === fromKey && kind !== 'folder') {
      renames[i] = to;
      file = true;
    } else if (key.startsWith(fromKey + '/') && kind !== 'file') renames[i] = [...to, ...f.path.slice(from.length)];
  });
  if (Object.keys(renames).length === 0) throw invalid(`no ${kind === 'either' ? 'file or folder' : kind} ${fromKey} in this torrent`);
  if (file && !meta.multiFile && to.length !== 1) throw invalid('the file of a single-file torrent cannot go into a folder');
  if (to.join('/') === fromKey) return;
  await applyRenames(node, t, renames);
}

/** Renames the folder a multi-file torrent's files are in (and so the torrent's own name); a
 *  single-file torrent's name is its file's. */
export async function renameTorrentFolder(node: EditNode, t: TorrentHandle, nameInput: unknown): Promise<void> {
  const meta = t.metainfo;
  if (!meta) throw conflict('the torrent’s metadata is not known yet; rename it once it is');
  const [name, ...rest] = components(nameInput, 'the new name');
  if (rest.length > 0) throw invalid('a torrent’s name is one path component');
  if (name === meta.name) return;
  await applyRenames(node, t, meta.multiFile ? { [-1]: [name!] } : { 0: [name!] });
}

// ---- trackers ----

const TRACKER_SCHEMES = new Set(['http:', 'https:', 'udp:', 'ws:', 'wss:']);

export function checkTrackerUrl(u: unknown): string {
  const s = typeof u === 'string' ? u.trim() : '';
  let url: URL | undefined;
  try {
    url = new URL(s);
  } catch {
    url = undefined;
  }
  if (!url || !TRACKER_SCHEMES.has(url.protocol) || !url.hostname) throw invalid(`not a tracker URL: ${JSON.stringify(u)}`);
  return s;
}

/** Its tracker tiers, whether it runs or not (each tier a list of URLs). */
export function trackerTiers(t: TorrentHandle): string[][] {
  return t.trackerList?.() ?? [];
}

/** Replaces its tracker tiers (Transmission's trackerList), checked, stored and applied at once. */
export async function setTrackerTiers(node: EditNode, t: TorrentHandle, tiersInput: unknown): Promise<string[][]> {
  if (!Array.isArray(tiersInput) || !tiersInput.every(Array.isArray)) throw invalid('trackers are a list of tiers, each a list of URLs');
  const seen = new Set<string>();
  const tiers = (tiersInput as unknown[][])
    .map((tier) => tier.map(checkTrackerUrl).filter((u) => !seen.has(u) && (seen.add(u), true)))
    .filter((tier) => tier.length > 0);
  if (!t.setTrackers) throw conflict('this torrent cannot change its trackers');
  await t.setTrackers(tiers);
  await node.db.records.setEdits(t.infoHashHex, { trackerTiers: tiers });
  return tiers;
}

/** Adds trackers, each a tier of its own after the others; those it has already are skipped. */
export async function addTrackers(node: EditNode, t: TorrentHandle, urls: readonly unknown[]): Promise<string[][]> {
  const tiers = trackerTiers(t);
  const have = new Set(tiers.flat());
  for (const u of urls.map(checkTrackerUrl)) if (!have.has(u)) (have.add(u), tiers.push([u]));
  return setTrackerTiers(node, t, tiers);
}

/** Replaces one tracker URL in its tier. Not there, or the new one there already: a conflict. */
export async function editTracker(node: EditNode, t: TorrentHandle, fromInput: unknown, toInput: unknown): Promise<string[][]> {
  const from = typeof fromInput === 'string' ? fromInput.trim() : '';
  const to = checkTrackerUrl(toInput);
  const tiers = trackerTiers(t);
  if (!tiers.some((tier) => tier.includes(from))) throw conflict(`the torrent has no tracker ${from}`);
  if (from !== to && tiers.some((tier) => tier.includes(to))) throw conflict(`the torrent has the tracker ${to} already`);
  return setTrackerTiers(node, t, tiers.map((tier) => tier.map((u) => (u === from ? to : u))));
}

/** Removes trackers by URL; none of them there: a conflict (qBittorrent's answer). */
export async function removeTrackers(node: EditNode, t: TorrentHandle, urls: readonly unknown[]): Promise<string[][]> {
  const gone = new Set(urls.map((u) => (typeof u === 'string' ? u.trim() : '')));
  const tiers = trackerTiers(t);
  if (!tiers.some((tier) => tier.some((u) => gone.has(u)))) throw conflict('none of those trackers is the torrent’s');
  return setTrackerTiers(node, t, tiers.map((tier) => tier.filter((u) => !gone.has(u))));
}

// ---- peers ----

/** "host:port" (IPv6 in brackets), checked; the node then dials it and remembers it. */
export function checkPeerAddress(a: unknown): string {
  const s = typeof a === 'string' ? a.trim() : '';
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw invalid(`not a peer address (host:port): ${JSON.stringify(a)}`);
  return s;
}

// ---- the order pieces come in ----

export type FilePriority = 'low' | 'normal' | 'high';

interface PieceOrder {
  sequential: boolean;
  firstLast: boolean;
  /** Files of other than normal priority. */
  priorities: Map<number, FilePriority>;
  release: (() => void)[];
}

const orders = new WeakMap<TorrentHandle, PieceOrder>();

export interface PieceOrderView {
  sequential: boolean;
  firstLast: boolean;
  priorities: ReadonlyMap<number, FilePriority>;
}

const NORMAL: PieceOrderView = { sequential: false, firstLast: false, priorities: new Map() };

export function pieceOrder(t: TorrentHandle | undefined): PieceOrderView {
  return (t && orders.get(t)) ?? NORMAL;
}

/** Claims the pieces that go first: high-priority files, then first and last pieces of each
 *  wanted file, then (sequential) each wanted file from its start, in file order. */
function claim(t: TorrentHandle, o: PieceOrder, selected: ReadonlySet<number> | null): void {
  for (const r of o.release.splice(0)) r();
  const meta = t.metainfo;
  if (!meta) return;
  const pieceOf = (offset: number) => Math.min(meta.pieceCount - 1, Math.floor(offset / meta.pieceLength));
  const wanted = meta.files.flatMap((f, i) => (f.pad || f.length === 0 || (selected && !selected.has(i)) ? [] : [{ i, first: pieceOf(f.offset), last: pieceOf(f.offset + f.length - 1) }]));
  const add = (first: number, last: number) => o.release.push(t.fetchPieces(first, last));
  for (const f of wanted) if (o.priorities.get(f.i) === 'high') add(f.first, f.last);
  if (o.firstLast) for (const f of wanted) (add(f.first, f.first), f.last !== f.first && add(f.last, f.last));
  if (o.sequential) for (const f of wanted) add(f.first, f.last);
}

/** Sequential download, first-and-last-pieces-first, file priorities: each change claims again
 *  at once, and resolves once it is stored. */
export async function setPieceOrder(
  node: EditNode,
  t: TorrentHandle,
  change: { sequential?: boolean; firstLast?: boolean; priorities?: { files: readonly number[]; priority: FilePriority } },
): Promise<PieceOrderView> {
  // A new object at each change: a remote's cache keyed by it sees the change (compat's sync).
  const was = orders.get(t);
  const o: PieceOrder = { sequential: was?.sequential ?? false, firstLast: was?.firstLast ?? false, priorities: new Map(was?.priorities), release: was?.release ?? [] };
  if (change.priorities) {
    const count = t.metainfo?.files.length;
    if (count === undefined) throw conflict('the torrent’s metadata is not known yet; set file priorities once it is');
    const bad = change.priorities.files.find((i) => !Number.isSafeInteger(i) || i < 0 || i >= count);
    if (bad !== undefined) throw invalid(`file index ${bad} is out of range: the torrent has ${count} file(s)`);
    for (const i of change.priorities.files) {
      if (change.priorities.priority === 'normal') o.priorities.delete(i);
      else o.priorities.set(i, change.priorities.priority);
    }
  }
  if (change.sequential !== undefined) o.sequential = change.sequential;
  if (change.firstLast !== undefined) o.firstLast = change.firstLast;
  const rec = node.db.records.get(t.infoHashHex);
  const selected = rec?.selectedFiles;
  claim(t, o, selected ? new Set(selected) : null);
  const normal = !o.sequential && !o.firstLast && o.priorities.size === 0;
  if (normal) orders.delete(t);
  else orders.set(t, o);
  // Kept with the torrent (issue 43 item 7): a restart loads it in the same order.
  const stored = normal ? null : { sequential: o.sequential, firstLast: o.firstLast, priorities: [...o.priorities].filter((e): e is [number, 'low' | 'high'] => e[1] !== 'normal') };
  if (rec && JSON.stringify(rec.pieceOrder) !== JSON.stringify(stored)) await node.db.records.setEdits(t.infoHashHex, { pieceOrder: stored });
  return o;
}

/** The stored piece order replayed on a torrent just loaded: now if its metadata is known, else
 *  once it arrives. */
export function restorePieceOrder(node: EditNode, t: TorrentHandle): void {
  const stored = node.db.records.get(t.infoHashHex)?.pieceOrder;
  if (!stored) return;
  // As stored, at once (the detail shows it before a magnet's metadata arrives); nothing written
  // back. Its pieces are claimed once the metadata says which they are.
  const o: PieceOrder = { sequential: stored.sequential, firstLast: stored.firstLast, priorities: new Map(stored.priorities), release: [] };
  orders.set(t, o);
  const apply = () => {
    if (orders.get(t) !== o) return; // changed meanwhile: that change claimed its own pieces
    const count = t.metainfo?.files.length ?? 0;
    for (const i of o.priorities.keys()) if (i >= count) o.priorities.delete(i);
    const selected = node.db.records.get(t.infoHashHex)?.selectedFiles;
    claim(t, o, selected ? new Set(selected) : null);
  };
  if (t.metainfo) apply();
  else t.once('metadata', apply);
}

/** The file selection changed: the pieces that go first follow it. */
export async function followSelection(node: EditNode, t: TorrentHandle): Promise<void> {
  if (orders.has(t)) await setPieceOrder(node, t, {});
}

/** Per piece: 0 missing, 1 downloading, 2 verified, and how many peers have each; a conflict
 *  before the metadata is known. */
export function pieceStates(t: TorrentHandle): { states: Uint8Array; availability: Uint16Array } {
  const p = t.pieceStates?.();
  if (!p) throw conflict('the torrent’s metadata is not known yet: it has no pieces to show');
  return p;
}
