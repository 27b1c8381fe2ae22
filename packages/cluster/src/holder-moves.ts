// A save path moved through any member moves every holder's own copy (issue 42, docs/cluster.md
// "Replicas and placement"): paths are each member's own, as each holder row's save_path is. The
// member asked moves its copy (when it holds one), then leaves the path as given on every other
// copy's holder row (`move_to`, schema 23) and tells the others; each holder moves its copy to that
// path on its own machine (a relative one under its own download dir), keeps where it went as its
// row's save_path, and clears the request — or keeps why it failed (`move_error`) for the detail.

import { makeDirs } from '@cascade/engine/make-dirs';
import { moveJournalled } from '@cascade/engine/move-journal';
import type { CascadeNode } from '@cascade/node';
import { errorMessage } from '@cascade/node/basics';
import { REMOVED, REMOVED_WITH_DATA, saveDir, type Store } from '@cascade/node/cluster-host';

/** A move asked of this member's copy. */
export interface PendingMove {
  infoHash: string;
  moveTo: string;
}

export class HolderMoveStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Asks every other copy of `infoHash` (not a removal's tombstone) to move to `path`; how many. */
  async forward(infoHash: string, except: string, path: string): Promise<number> {
    const { changes } = await this.#store.run(
      `UPDATE torrent_holders SET move_to = ?, move_error = NULL
       WHERE info_hash = ? AND member_id <> ? AND state NOT IN ('${REMOVED}', '${REMOVED_WITH_DATA}')`,
      [path, infoHash, except],
    );
    return changes;
  }

  /** The moves asked of `member`'s copies. */
  async pending(member: string): Promise<PendingMove[]> {
    const rows = await this.#store.all<{ info_hash: string; move_to: string }>(
      'SELECT info_hash, move_to FROM torrent_holders WHERE member_id = ? AND move_to IS NOT NULL',
      [member],
    );
    return rows.map((r) => ({ infoHash: r.info_hash, moveTo: r.move_to }));
  }

  /** The move asked is done (or failed, with why), unless another was asked meanwhile. */
  async settle(infoHash: string, member: string, asked: string, error: string | null): Promise<void> {
    await this.#store.run(
      'UPDATE torrent_holders SET move_to = NULL, move_error = ? WHERE info_hash = ? AND member_id = ? AND move_to = ?',
      [error, infoHash, member, asked],
    );
  }
}

/**
 * Moves this member's copy of `infoHash` to `given` (as the user gave it: resolved against this
 * member's own download dir). Journalled as the node's own moves are (moveJournalled): a move that
 * fails leaves the data where it was and its row's save path unchanged, and a crash before the new
 * path is stored is undone at the member's next start. False when nothing moved (no copy loaded
 * here, or it is already there).
 */
export async function moveOwnCopy(node: CascadeNode, infoHash: string, given: string): Promise<boolean> {
  const t = node.session.get(infoHash);
  const rec = node.db.records.get(infoHash);
  if (!t || !rec) return false;
  const path = saveDir('savePath', given, node.downloadDir, node.db.stateDir);
  if (path === rec.savePath) return false;
  await makeDirs(path);
  return moveJournalled(node.db.stateDir, infoHash, t, path, node.model.movesWith?.(infoHash) ?? [], (p) => node.db.records.setSavePath(infoHash, p));
}

/** Carries out the moves asked of this member's copies, one at a time; each settled in its row. */
export class HolderMoves {
  readonly #node: CascadeNode;
  readonly #member: () => string;
  readonly #store: HolderMoveStore;
  #running: Promise<void> = Promise.resolve();
  #again = false;
  #busy = false;

  constructor(node: CascadeNode, member: () => string) {
    this.#node = node;
    this.#member = member;
    this.#store = new HolderMoveStore(node.db.store);
  }

  /** Looks for moves asked of this member (a notice heard, a tick) and does them. */
  follow(): Promise<void> {
    if (this.#busy) {
      this.#again = true;
      return this.#running;
    }
    this.#busy = true;
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again);
      } catch (err) {
        this.#node.out.note(`cluster: following the moves asked of this member failed: ${errorMessage(err)}`);
      } finally {
        this.#busy = false;
      }
    })();
    return this.#running;
  }

  async #pass(): Promise<void> {
    const member = this.#member();
    for (const m of await this.#store.pending(member)) {
      // Not loaded here (yet): taken from the library later, at the library's path; asked again then.
      if (!this.#node.session.get(m.infoHash)) continue;
      // A check under way refuses a move: the move stays asked, and a later pass (each tick) makes
      // it once the check is over. Settled as a failure, the copy stayed in the old folder for good
      // while every other copy followed (bench:crash --cluster: move_error "…being checked").
      if (this.#checking(m.infoHash)) continue;
      let error: string | null = null;
      try {
        // 'already there' when nothing moved: a "moved" for those misled the reading of a crash run.
        const moved = await moveOwnCopy(this.#node, m.infoHash, m.moveTo);
        this.#node.out.event('cluster', { state: moved ? 'moved' : 'already there', infoHash: m.infoHash, savePath: this.#node.db.records.get(m.infoHash)?.savePath });
      } catch (err) {
        if (this.#checking(m.infoHash)) continue;
        error = `${m.moveTo}: ${errorMessage(err)}`;
        this.#node.out.note(`cluster: ${m.infoHash}: ${error}`);
      }
      await this.#store.settle(m.infoHash, member, m.moveTo, error);
      this.#node.changed();
    }
  }

  #checking(infoHash: string): boolean {
    return this.#node.session.get(infoHash)?.stats().state === 'checking';
  }
}
