// Which pieces are already on disk. With resume data, listed pieces are trusted unless their files
// vanished, shrank or changed: a file whose size or mtime differs from the resume data was written
// since (by someone else, or by us after the last save and before a crash), so every piece touching
// it that is on disk is hashed again, and only those. Without resume data (or with `trust: false`,
// a forced recheck) every piece whose bytes exist is read and verified.

import { Bitfield } from './bitfield.ts';
import type { ResumeData } from '../api.ts';
import type { FileStat, Hasher, Storage } from '../platform.ts';
import { pieceSegments } from './piece-map.ts';
import type { Metainfo } from '../types.ts';
import { checkV2, hasV1, hasV2 } from './torrent-v2.ts';
import type { CheckTurn } from './check-gate.ts';

const PARALLEL_READS = 4;

export interface CheckOptions {
  resume?: ResumeData;
  onProgress?: (checked: number, total: number) => void;
  /** Called once before the first piece is read, only when some piece must be hashed. */
  onHashing?: (pieces: number) => void;
  isCancelled?: () => boolean;
  /** The node's turns to read (CheckGate): asked only when some piece must be hashed. */
  gate?: { enter(): Promise<CheckTurn>; readonly busy: boolean };
  /** True when its turn does not come at once (after onHashing), false once it comes. */
  onWaiting?: (waiting: boolean) => void;
}

export interface CheckResult {
  have: Bitfield;
  /** Pieces read and hashed. */
  hashed: number;
  /** The files as they were found (what resume data records next). */
  stats: (FileStat | undefined)[];
}

export async function checkPieces(meta: Metainfo, storage: Storage, hasher: Hasher, opts: CheckOptions = {}): Promise<CheckResult> {
  let plan: CheckPlan | undefined = await planCheck(meta, storage, opts.resume);
  if (plan.todo.length === 0) return { have: plan.have, hashed: 0, stats: plan.stats };
  opts.onHashing?.(plan.todo.length);
  const waits = opts.gate?.busy === true;
  // Not kept while it waits (a "recheck all" of 1,000 big torrents: 1,000 lists of pieces to read),
  // and made again after: its files may have changed meanwhile (minutes, hours).
  if (waits) plan = undefined;
  if (waits) opts.onWaiting?.(true);
  const turn = await opts.gate?.enter();
  if (waits) opts.onWaiting?.(false);
  try {
    if (!plan && opts.isCancelled?.()) return { have: new Bitfield(meta.pieceCount), hashed: 0, stats: [] }; // removed meanwhile
    plan ??= await planCheck(meta, storage, opts.resume);
    const onProgress = turn ? (done: number, total: number) => (turn.progress(), opts.onProgress?.(done, total)) : opts.onProgress;
    return { have: plan.have, hashed: await hashPieces(meta, storage, hasher, plan, { ...opts, onProgress }), stats: plan.stats };
  } finally {
    turn?.leave();
  }
}

interface CheckPlan {
  have: Bitfield;
  /** Pieces to read and hash. */
  todo: number[];
  stats: (FileStat | undefined)[];
}

async function planCheck(meta: Metainfo, storage: Storage, resume: ResumeData | undefined): Promise<CheckPlan> {
  const stats = await storage.fileStats();
  const present = (index: number) =>
    pieceSegments(meta, index).every((s) => meta.files[s.file]!.pad || (stats[s.file]?.length ?? -1) >= s.fileOffset + s.length);

  const resumeHave = resume && resume.have.length === Math.ceil(meta.pieceCount / 8) ? resume.have : undefined;
  const todo: number[] = [];
  // The torrent's own bitfield from here on: kept as long as it is (lasting-bytes.ts).
  const have = new Bitfield(meta.pieceCount, resumeHave, true);
  if (resumeHave) {
    const touched = changedPieces(meta, stats, resume!.files);
    // Every file whole and as recorded (the usual restart): the resume bitfield stands as it is,
    // with no walk over the pieces.
    const allAsSaved = touched.every((t) => t === 0) && meta.files.every((f, i) => f.pad || (stats[i]?.length ?? -1) >= f.length);
    for (let i = 0; i < meta.pieceCount && !allAsSaved; i++) {
      if (!present(i)) have.set(i, false);
      else if (touched[i] === 1 || (touched[i] === 2 && !have.get(i))) {
        have.set(i, false);
        todo.push(i);
      }
    }
  } else {
    for (let i = 0; i < meta.pieceCount; i++) if (present(i)) todo.push(i);
  }
  return { have, todo, stats };
}

/** Reads and verifies the plan's pieces, setting those that pass in its `have`; returns how many were read. */
async function hashPieces(meta: Metainfo, storage: Storage, hasher: Hasher, { have, todo }: CheckPlan, opts: CheckOptions): Promise<number> {
  if (todo.length === 0) return 0;
  const v1 = hasV1(meta), v2 = hasV2(meta);
  let next = 0;
  let checked = 0;
  const worker = async () => {
    // One buffer per reader, reused: checking 8 GiB must not churn through 8 GiB of allocations.
    let buffer: Uint8Array | undefined = new Uint8Array(meta.pieceLength);
    while (next < todo.length && !opts.isCancelled?.()) {
      const index = todo[next++]!;
      try {
        const into: Uint8Array | undefined = buffer && index < meta.pieceCount - 1 ? buffer : undefined;
        let data = await storage.readPiece(index, into);
        let good = true;
        if (v1) {
          const result = await hasher.sha1(data);
          data = result.data;
          good = equal20(result.digest, meta.pieceHashes, index * 20);
        }
        // v2 and hybrid pieces must match their merkle tree too (a hybrid's both, as libtorrent checks).
        if (good && v2) {
          const r = await checkV2(meta, hasher, index, data);
          good = r.ok === true || (r.ok === 'unknown' && v1);
        }
        if (into) buffer = data.length === meta.pieceLength ? data : undefined;
        if (good) have.set(index);
      } catch {
        // unreadable piece: it simply isn't there
      }
      opts.onProgress?.(++checked, todo.length);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_READS }, worker));
  return checked;
}

/** What claimsHeld finds (indices are the metainfo's file indices). */
export interface ClaimsOnDisk {
  have: Uint8Array;
  files: number[];
  missing: number[];
}

/**
 * What a resume record's claims (`have`) still hold on disk, judged as checkPieces would judge them
 * before it hashes anything: a claimed piece stays when its files are there at their length and
 * none of them changed since the record (`saved`: size or mtime differ). For a torrent the engine
 * has not checked yet (a paused one, one waiting for a slot), whose listing the record stands for:
 * libtorrent checks a paused torrent's resume data at load too ("fastresume rejected"). `files`:
 * the files that dropped a claimed piece. `missing`: the files that are gone while the record saw
 * data in them (qBittorrent's "missing files"; after the claims dropped, the record still says so).
 */
export function claimsHeld(meta: Metainfo, have: Uint8Array, stats: (FileStat | undefined)[], saved: ResumeData['files']): ClaimsOnDisk {
  const held = new Bitfield(meta.pieceCount, have.length === Math.ceil(meta.pieceCount / 8) ? have : undefined);
  const touched = changedPieces(meta, stats, saved);
  const files = new Set<number>();
  for (let i = 0; i < meta.pieceCount; i++) {
    if (!held.get(i)) continue;
    for (const s of pieceSegments(meta, i)) {
      const f = meta.files[s.file]!;
      if (f.pad) continue;
      const short = (stats[s.file]?.length ?? -1) < s.fileOffset + s.length;
      if (short || touched[i] === 1) {
        held.set(i, false);
        // The file that failed it: one too short, else (a change) each file of the piece that changed.
        if (short || !sameAsSaved(stats[s.file], saved?.[s.file])) files.add(s.file);
      }
    }
  }
  const missing = filesWithData(meta, saved).filter((i) => stats[i] === undefined);
  return { have: held.bytes, files: [...files].sort((a, b) => a - b), missing };
}

/** The files a resume record saw data in: saved with a size > 0 (an absent file is saved as 0). */
function filesWithData(meta: Metainfo, saved: ResumeData['files']): number[] {
  const had: number[] = [];
  meta.files.forEach((f, i) => {
    if (!f.pad && f.length > 0 && (saved?.[i]?.length ?? 0) > 0) had.push(i);
  });
  return had;
}

/**
 * The files a resume record saw data in (saved with a size > 0) when every one of them is gone (a
 * drive not mounted, a folder moved or deleted by hand): what Transmission calls "No data found!".
 * Read from the sizes, not the claimed pieces: a record narrowed while the torrent waited (unchecked
 * claims dropped for the missing files) still says where data was. Empty when any of them is there.
 */
export function dataGone(meta: Metainfo, resume: ResumeData, stats: (FileStat | undefined)[]): number[] {
  const had = filesWithData(meta, resume.files);
  return had.some((f) => stats[f] !== undefined) ? [] : had;
}

function sameAsSaved(now: FileStat | undefined, then: FileStat | undefined): boolean {
  return !!now && !!then && now.length === then.length && now.mtimeMs === then.mtimeMs;
}

/** 1 for each piece touching a file whose size or mtime is not what the resume data recorded.
 *  Resume data without file stats (older records) cannot tell: unverified pieces only. */
function changedPieces(meta: Metainfo, stats: (FileStat | undefined)[], saved: ResumeData['files']): Uint8Array {
  const touched = new Uint8Array(meta.pieceCount);
  meta.files.forEach((f, i) => {
    if (f.pad || f.length === 0) return;
    if (sameAsSaved(stats[i], saved?.[i])) return;
    const first = Math.floor(f.offset / meta.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / meta.pieceLength);
    touched.fill(saved ? 1 : 2, first, last + 1);
  });
  return touched;
}

export function equal20(digest: Uint8Array, hashes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 20; i++) if (digest[i] !== hashes[offset + i]) return false;
  return true;
}
