// A torrent the engine has not checked yet (loaded paused: the user's pause, or waiting in the queue
// for a slot; only a start checks data) is listed, and counted by the queue, by its resume record's
// claims. Soon after it loads they are held against its files, as libtorrent checks a paused
// torrent's resume data at load ("fastresume rejected: mismatching file size"): the pieces of a
// claimed file that is gone, short or changed since the record leave the record — saved with those
// files marked changed, so the torrent's own check when it starts hashes whatever of them is there
// (a disk mounted again) rather than fetching it — and so the listing and the queue's count.
// Before, a paused torrent whose files were deleted while the node was down was listed complete,
// and counted as a seed, until it ran. One torrent at a time, in the background, each file
// stat()ed, none opened.

import type { NodeLog } from './node-log.ts';
import type { NodeCore } from './node-parts.ts';
import type { TorrentHandle } from './engine.ts';
import { errorMessage } from '@cascade/node-state/errors';
import { countBits } from '@cascade/node-state';

/** What holding claims touches: the loaded torrents, their resume records; `changed` redraws. */
export interface ClaimsNode extends NodeCore {
  changed?(): void;
}

const queues = new WeakMap<ClaimsNode, UncheckedClaims>();
/** How long after a load its claims are looked at (the queue's starts come first). */
const SETTLE_MS = 2000;

/** Holds the claims of `infoHash` (just loaded) against its files, in the background. */
export function holdClaimsSoon(node: ClaimsNode, log: NodeLog, infoHash: string): void {
  let q = queues.get(node);
  if (!q) queues.set(node, (q = new UncheckedClaims(node, log)));
  q.add(infoHash);
}

/**
 * The files of a loaded torrent, not checked since, that are gone while its resume record saw data
 * in them (qBittorrent's `missingFiles`, Transmission's "No data found"): their paths, or undefined.
 * Only while it stays unchecked: its start or a recheck checks the data and says the rest.
 */
export function missingFilesOf(node: ClaimsNode, infoHash: string): string[] | undefined {
  const q = queues.get(node);
  const names = q?.missing.get(infoHash);
  if (!names) return undefined;
  const t = node.session.get(infoHash);
  if (t && unchecked(t)) return names;
  q!.missing.delete(infoHash);
  return undefined;
}

const first = (s: Set<string>): string | undefined => s.values().next().value;

/** Loaded, paused and not checked: what the listing shows of it is its record's claims. */
function unchecked(t: TorrentHandle): boolean {
  const s = t.stats();
  return s.state === 'paused' && s.verifiedPieces === 0;
}

export class UncheckedClaims {
  readonly #node: ClaimsNode;
  readonly #log: NodeLog;
  readonly #todo = new Set<string>();
  #running = false;
  /** missingFilesOf's answers, by infohash. */
  readonly missing = new Map<string, string[]>();

  constructor(node: ClaimsNode, log: NodeLog) {
    this.#node = node;
    this.#log = log;
  }

  add(infoHash: string): void {
    this.#todo.add(infoHash);
    if (!this.#running) void this.#run();
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      // After the loads under way and the queue's first starts: a torrent starting checks its data
      // itself (the same stat()s, and its record read), so each is looked at once it has settled.
      await new Promise((r) => setTimeout(r, SETTLE_MS).unref());
      for (let ih = first(this.#todo); ih !== undefined; ih = first(this.#todo)) {
        this.#todo.delete(ih);
        try {
          await this.#hold(ih);
        } catch (err) {
          // A node stopping under it (its state closed), or a storage that cannot say: listed as before.
          if (!this.#node.session.get(ih)) continue;
          this.#log.note(`${ih}: its resume record's claims could not be held against its files: ${errorMessage(err)}`);
        }
      }
      for (const ih of this.missing.keys()) if (!this.#node.session.get(ih)) this.missing.delete(ih);
    } finally {
      // No await since the last look at #todo: an add from now on starts another run.
      this.#running = false;
    }
  }

  async #hold(infoHash: string): Promise<void> {
    const { session, db } = this.#node;
    const t = session.get(infoHash);
    this.missing.delete(infoHash);
    // Paused by the user, or waiting for a slot: the others are started by the queue, and check.
    const status = db.records.get(infoHash)?.status;
    if ((status !== 'paused' && status !== 'queued') || !t?.claimsOnDisk || !unchecked(t)) return;
    const saved = await db.resume.savedClaims(infoHash);
    if (!saved) return;
    const held = await t.claimsOnDisk(saved.have, saved.files);
    if (!held || !unchecked(t)) return;
    const meta = t.metainfo!;
    const pathOf = (i: number) => meta.files[i]!.path.join('/');
    // Kept across restarts by the record: a narrowed one still names the files' old sizes.
    if (held.missing.length > 0) this.missing.set(infoHash, held.missing.map(pathOf));
    const before = countBits(saved.have), after = countBits(held.have);
    // Nothing dropped (a record narrowed at an earlier start names the same files): its own check decides.
    if (after === before) {
      if (held.missing.length > 0) this.#redraw(infoHash);
      return;
    }
    // The files that dropped pieces are saved as changed (an mtime no file has): put back as they
    // were (a disk mounted again), their pieces are hashed at the torrent's start, not fetched.
    const dropped = new Set(held.files);
    const files = saved.files?.map((f, i) => (dropped.has(i) ? { length: f.length, mtimeMs: -1 } : f));
    if (!(await db.resume.narrow(infoHash, saved.have, held.have, files))) return;
    const names = held.files.map(pathOf);
    this.#log.event('claims-dropped', { infoHash, files: names, pieces: before - after, missing: held.missing.map(pathOf) });
    this.#log.note(`${meta.name}: ${names.length} file${names.length === 1 ? '' : 's'} missing or changed since its resume record (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}): ${before - after} pieces not counted until it checks its data (when it starts, or a recheck)`);
    this.#redraw(infoHash);
  }

  /** Its list row is built again and the live feed told: the listing keeps a row until the
   *  torrent's engine state or its library record changes, and neither did here. */
  #redraw(infoHash: string): void {
    this.#node.db.records.touch(infoHash);
    this.#node.changed?.();
  }
}
