// A member as a holder (issue 42 step 5, docs/cluster.md "Replicas and placement"): it runs what the
// coordinator placed on it, saved in its own download directory; it gives its engine the other live
// holders of each torrent it holds as peers (their cluster URL's host, their BitTorrent port), so the
// copies fill from each other by BitTorrent with no tracker; fenced, it stops acting as a holder (its
// torrents held paused, the library's status untouched: that pause is not the user's); back with a
// new epoch, its copies count again and run on from what is on its disk. A copy the coordinator
// took off as surplus (its holder row gone, the torrent still in the library: placement.ts's
// trim) is deleted here with its data.

import type { CascadeNode } from '@cascade/node';
import { errorMessage } from '@cascade/node/basics';
import { loadStored } from '@cascade/node/cluster-host';
import { dropTombstoned } from './tombstones.ts';
import type { HolderStore } from './holder-store.ts';
import { FULL_SWEEP_MS, ToldSet } from './told-set.ts';
import type { ClusterMembership } from './membership.ts';
import { HolderMoves } from './holder-moves.ts';
import { followRenames } from './holder-renames.ts';

/** "host:port" of a member's engine: its cluster URL's host (brackets kept for IPv6). */
export function engineAddress(url: string, btPort: number): string | undefined {
  try {
    return `${new URL(url).hostname}:${btPort}`;
  } catch {
    return undefined;
  }
}

export class Holdings {
  readonly #node: CascadeNode;
  readonly #m: ClusterMembership;
  readonly #holders: HolderStore;
  /** Peers given to the engine, as "infohash member epoch address": given once per epoch (a member
   *  back with a new epoch, or a new address, is given again). */
  readonly #given = new Set<string>();
  #taking: Promise<void> = Promise.resolve();
  /** Torrents whose holders may have changed since the last peer refresh, or everything (see
   *  ToldSet); what a full refresh depends on: the live members, their epochs and addresses. */
  readonly #told = new ToldSet(true);
  /** Torrents held here that another live holder has complete, as the last refreshes read them. */
  readonly #completeElsewhere = new Set<string>();
  /** Save-path moves asked of this member's copies through other members. */
  readonly #moves: HolderMoves;
  /** Told of the copies deleted here (the listing then reads them as the other holders have them). */
  dropped: (infoHashes: readonly string[]) => void = () => {};
  #dropping = false;
  #dropSweptAt = 0;
  #tombstonesSweptAt = 0;
  /** A torrent's rows changed since the last look at this member's tombstones (one may be new). */
  #tombstonesTold = false;
  #dropTold = new Set<string>();
  readonly #droppingTombstones = new Map<string, Promise<void>>();

  constructor(node: CascadeNode, m: ClusterMembership, holders: HolderStore) {
    this.#node = node;
    this.#m = m;
    this.#holders = holders;
    this.#moves = new HolderMoves(node, () => m.id);
  }

  /** Does the moves asked of this member's copies (a torrent's notice heard, or a tick). */
  moves(): Promise<void> {
    return this.#m.state === 'member' ? this.#moves.follow() : Promise.resolve();
  }

  /** The library's names of a torrent changed (a rename through any member): this copy follows. */
  renamed(infoHash: string): void {
    const t = this.#node.session.get(infoHash);
    if (t && this.#m.state === 'member') void followRenames(this.#node, t);
  }

  /** Loads the torrents placed here (or held here and not running), each in its own copy: the
   *  first time, its save path becomes this member's download directory. One batch at a time. */
  take(infoHashes: readonly string[]): Promise<void> {
    const next = this.#taking.then(() => this.#take(infoHashes));
    this.#taking = next.catch(() => {});
    return next;
  }

  async #take(infoHashes: readonly string[]): Promise<void> {
    const node = this.#node;
    const records = node.db.records;
    let loaded = 0;
    // In queue order, as the library loads: the queue admits each as last so far, so the first
    // ones run at once; in any other order a later torrent would start and then make way for an
    // earlier one at the next plan (placements are listed in no particular order).
    const position = (ih: string) => records.get(ih)?.queuePosition ?? Number.MAX_SAFE_INTEGER;
    const ordered = [...infoHashes].sort((a, b) => position(a) - position(b));
    for (const ih of ordered) {
      if (this.#m.state !== 'member' || !records.heldHere(ih)) continue;
      try {
        const running = node.session.get(ih);
        if (running) {
          // Placed here while the engine already runs a copy (the torrent removed and added again
          // before this member heard): the row says where that copy is. Left untaken, it named no
          // folder, so a later removal's tombstone deleted nothing ("files": 0; cluster-readd).
          if (records.untaken(ih)) await records.take(ih, running.savePath);
          continue;
        }
        if (records.untaken(ih)) await records.take(ih, node.downloadDir);
        if (await loadStored(node, ih, node.out)) loaded++;
      } catch (err) {
        node.out.note(`cluster: taking ${ih} placed here failed: ${errorMessage(err)}`);
      }
    }
    if (loaded > 0) {
      node.changed();
      this.told(infoHashes);
      await this.peers();
    }
  }

  /** Placements this member has not heard of (a notice lost, or made while it was away). */
  async catchUp(): Promise<void> {
    const placed = await this.#holders.placedOn(this.#m.id);
    if (placed.length === 0) return;
    await this.#node.db.records.reload(placed);
    await this.take(placed);
  }

  /** Torrents written (their holders may have changed): their peers are read at the next refresh. */
  told(keys: readonly (string | null)[]): void {
    this.#told.tell(keys);
    for (const k of keys) if (k === null) this.#dropSweptAt = 0; else this.#dropTold.add(k);
    this.#tombstonesTold = true;
  }

  /** Gives each running torrent's engine the other live holders of it as peers, and tells the queue
   *  which torrents another live holder has complete: a download of one is the cluster's copy, run
   *  outside the user's download slots (docs/cluster.md, "A placed copy and the download queue").
   *  It reads the holders of every torrent
   *  held here when the live members (their epochs, addresses) changed or every FULL_SWEEP_MS,
   *  else of the torrents told of since the last refresh (at 10,000 torrents the whole read is
   *  10,000 rows per member: bench/cluster/placement.ts). */
  async peers(): Promise<void> {
    const session = this.#node.session;
    const { now, members } = await this.#m.store.list();
    const seen = members.filter((x) => x.leaseUntil >= now && x.deadAt === null).map((x) => `${x.id}@${x.epoch} ${x.url} ${x.btPort}`).sort().join(' ');
    const { full, told } = this.#told.take(seen, now);
    if (!full && told.size === 0) return;
    let found;
    try {
      found = await this.#holders.peersOf(this.#m.id, full ? undefined : [...told]);
    } catch (err) {
      this.#told.everything();
      throw err;
    }
    if (full) this.#completeElsewhere.clear();
    else for (const ih of told) this.#completeElsewhere.delete(ih);
    for (const p of found) if (p.progress >= 1) this.#completeElsewhere.add(p.infoHash);
    this.#node.queue.setReplicaCopies(new Set(this.#completeElsewhere));
    for (const p of found) {
      const t = session.get(p.infoHash);
      const address = engineAddress(p.url, p.btPort);
      if (!t || !address) continue;
      const key = `${p.infoHash} ${p.member} ${p.epoch} ${address}`;
      if (this.#given.has(key)) continue;
      this.#given.add(key);
      t.addPeer(address);
    }
  }

  /** Each tick: catch up with placements, then the peers; a rejoin whose registration failed (the
   *  database away at that moment) is done again first. */
  async tick(): Promise<void> {
    try {
      const node = this.#node;
      if (this.#m.state === 'member' && (node.db.records.epoch !== this.#m.epoch || node.queue.suspended)) return await this.rejoined(this.#m.epoch);
      await this.catchUp();
      await this.drop();
      await this.tombstones();
      await this.peers();
      await this.moves();
    } catch (err) {
      this.#node.out.note(`cluster: following this member's holdings failed: ${errorMessage(err)}`);
    }
  }

  /** Deletes, with their data, the copies running here whose holder row the coordinator took off
   *  while their torrents stay in the library (the database says so, not only this member's view). */
  async drop(): Promise<void> {
    const node = this.#node;
    const records = node.db.records;
    // One at a time: a second pass must not see a copy the first is deleting as one not running
    // here (a removal of a torrent not loaded deletes files by the library's save path).
    if (this.#m.state !== 'member' || this.#dropping) return;
    this.#dropping = true;
    try {
      // Those told of since (a notice names the torrent) or that this member's view says it no
      // longer holds; every FULL_SWEEP_MS all it runs (a notice missed: Redis away).
      const full = Date.now() - this.#dropSweptAt >= FULL_SWEEP_MS;
      if (full) this.#dropSweptAt = Date.now();
      const told = this.#dropTold;
      this.#dropTold = new Set();
      const maybe = node.session.list().map((t) => t.infoHashHex).filter((ih) => records.has(ih) && (full || told.has(ih) || !records.heldHere(ih)));
      if (maybe.length === 0) return;
      const held = new Set(await this.#holders.heldBy(this.#m.id, maybe));
      const gone = maybe.filter((ih) => !held.has(ih) && node.session.get(ih));
      if (gone.length === 0) return;
      for (const [ih, err] of await node.removeMany(gone, true, true)) {
        if (err) node.out.note(`cluster: deleting the surplus copy of ${ih} failed: ${errorMessage(err)}`);
      }
      node.out.event('cluster', { state: 'copies trimmed', torrents: gone });
      node.changed();
      this.dropped(gone);
    } finally {
      this.#dropping = false;
    }
  }

  /**
   * This member's tombstones that no running copy answers to (the views act on those: a removal's
   * notice stops the engine's copy): copies of torrents removed through another member while this
   * one was down, or placed here and not taken yet. Their files go when the remover asked
   * (dropTombstoned reads them from the resume record the removal left this member), then the
   * tombstone and the record. Before (issue 63, bench/crash --cluster) a member killed at the wrong
   * moment kept such a copy's files for ever, and a tombstone kept the torrent, if added again,
   * from being placed here. At the first tick and every FULL_SWEEP_MS.
   */
  async tombstones(): Promise<void> {
    if (this.#m.state !== 'member' || (!this.#tombstonesTold && Date.now() - this.#tombstonesSweptAt < FULL_SWEEP_MS)) return;
    this.#tombstonesSweptAt = Date.now();
    this.#tombstonesTold = false;
    for (const t of await this.#holders.tombstonesOf(this.#m.id)) await this.dropTombstone(t.infoHash);
  }

  /**
   * This member's tombstone of `infoHash`, when it runs no copy of it: the copy's files go if the
   * remover asked, then the tombstone (dropTombstoned). The sweep's, and an add of the torrent
   * through this member first (Member.replaceRemoved): before, that add cleared the tombstone and the
   * old copy's files stayed for good, in a folder nothing named (bench:crash --cluster, "data in
   * exactly one place"). One at a time per torrent; never rejects (a failure is noted).
   */
  dropTombstone(infoHash: string): Promise<void> {
    const under = this.#droppingTombstones.get(infoHash);
    if (under) return under;
    const node = this.#node;
    const run = (async () => {
      try {
        // Running here: the views or drop() delete it. A trimmed copy not running here (a member that
        // came back and did not load it) is this sweep's too, or it stayed for good (bench:crash --cluster).
        const [t] = await this.#holders.tombstonesOf(this.#m.id, infoHash);
        if (!t || node.session.get(infoHash)) return;
        const files = await dropTombstoned(node, t);
        node.out.event('cluster', { state: 'removed copy dropped', infoHash, files: files ?? null });
      } catch (err) {
        node.out.note(`cluster: dropping this member's copy of ${infoHash}, removed through another member, failed: ${errorMessage(err)}`);
      } finally {
        this.#droppingTombstones.delete(infoHash);
      }
    })();
    this.#droppingTombstones.set(infoHash, run);
    return run;
  }

  /** Fenced: every torrent held paused, without a word to the library. */
  async fenced(): Promise<void> {
    await this.#node.queue.suspend(true);
    const held = this.#node.session.list().filter((t) => t.stats().state === 'paused').length;
    this.#node.out.event('cluster', { state: 'holdings paused', epoch: this.#m.epoch, torrents: held });
  }

  /** Back with `epoch` (joined or rejoined): its copies count again (their rows carry the new
   *  epoch), and they run on from what is on disk (the engine kept them, paused). */
  async rejoined(epoch: number): Promise<void> {
    await this.#node.db.records.registerHeld(epoch);
    this.#given.clear();
    this.#told.everything();
    this.#dropSweptAt = 0;
    this.#tombstonesSweptAt = 0;
    if (this.#node.queue.suspended) await this.#node.queue.suspend(false);
    await this.catchUp();
    await this.peers();
  }
}
