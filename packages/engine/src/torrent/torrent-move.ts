// torrent.move(newSavePath) (issue 20, "where to save"): the torrent lets go of its files (peers
// dropped, writes flushed, resume data saved, file handles closed), the platform moves them, and
// the torrent carries on from the new place with the pieces it had verified. On any failure the
// files stay (or are put back) where they were and the torrent carries on from there.

import type { Metainfo } from '../types.ts';
import type { TorrentContext } from '../session/torrent-context.ts';

/** What move needs of a Torrent beyond its public face. */
export interface MovableTorrent {
  readonly metainfo: Metainfo | undefined;
  readonly savePath: string;
  readonly state: string;
  moving: boolean;
  /** Resolves once the torrent's look at what is on disk (at load, after metadata) is over. */
  settled(): Promise<void>;
  /** Stops transfers and closes the files; says whether it was running (to restart it after). */
  suspendForMove(): Promise<boolean>;
  /** Points storage at `savePath` (owning its files through `release`) and restarts if `running`. */
  resumeAfterMove(savePath: string, release: (() => void) | undefined, running: boolean): Promise<void>;
}

/** Before a move or a rename of files: refused while a check hashes the data or another move runs;
 *  the load's quick look at the files (resume data, a stat per file) is waited for, not refused. */
export async function readyToMove(t: MovableTorrent, refusals: { checking: string; moving: string }): Promise<void> {
  if (t.state === 'checking') throw new Error(refusals.checking);
  await t.settled();
  if (t.moving) throw new Error(refusals.moving);
  if (t.state === 'checking') throw new Error(refusals.checking);
}

export async function moveTorrent(t: MovableTorrent, ctx: TorrentContext, newSavePath: string): Promise<void> {
  if (typeof newSavePath !== 'string' || newSavePath.trim() === '') throw new Error('move needs the path of a folder');
  const mover = ctx.storageMover;
  if (!mover) throw new Error('this session cannot move data (no file system)');
  await readyToMove(t, { checking: 'cannot move a torrent while its data is being checked', moving: 'a move of this torrent is already under way' });
  const to = mover.resolve(newSavePath);
  const from = t.savePath;
  if (to === from) return;
  const meta = t.metainfo;
  // Another torrent's files at the destination refuse the move before anything is touched.
  const release = meta ? ctx.claimFiles?.(meta, to) : undefined;
  t.moving = true;
  let running = false;
  try {
    running = await t.suspendForMove();
    if (meta) await mover.move(meta, from, to);
  } catch (err) {
    release?.();
    t.moving = false;
    await t.resumeAfterMove(from, undefined, running);
    throw new Error(`cannot move "${meta?.name ?? 'torrent'}" to ${to}: ${(err as Error).message}`);
  }
  t.moving = false;
  await t.resumeAfterMove(to, release, running);
}
