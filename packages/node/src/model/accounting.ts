// Totals over every run: the engine counts bytes since a torrent was loaded, the node keeps the sum
// across restarts (ratio, seeding goals) and the seconds spent seeding.
//
// No timer of its own (issue 25): the queue's one tick calls sample(), which visits only torrents
// the session's change feed names (their revision moved since the last look) — an idle seed costs
// nothing. Seeding time
// needs no visit: a seed's seconds are counted from when it was last seen seeding, on demand.
// Byte deltas are written in one transaction at most every FLUSH_MS; seeding seconds of torrents
// that moved nothing only every IDLE_FLUSH_MS (and when the node stops), so 10,000 idle seeds do not
// rewrite 10,000 rows every half minute.

import type { SessionHandle, TorrentChangeFeed, TorrentHandle } from '../core/engine.ts';
import type { PendingTotals } from '../listing/listing.ts';
import type { TorrentOptionsStore, TotalsDelta } from './torrent-options.ts';

const FLUSH_MS = 30_000;
const IDLE_FLUSH_MS = 10 * 60_000;
/** After a flush the Store refused: the next try. */
const RETRY_MS = 2_000;

/** What the last look at a torrent saw. */
interface Seen {
  t: TorrentHandle;
  revision: number;
  downloaded: number;
  uploaded: number;
  /** Seeding since `since` (ms): its seconds from then on are not in pending yet. */
  seeding: boolean;
  since: number;
}

export class Accounting {
  readonly #session: SessionHandle;
  readonly #store: Pick<TorrentOptionsStore, 'addTotals'>;
  #seen = new Map<string, Seen>();
  #pending = new Map<string, PendingTotals>();
  #lastFlush = Date.now();
  #lastIdleFlush = Date.now();
  /** Torrents that changed since the last sample (a session without feeds: every one, each time). */
  readonly #changes: TorrentChangeFeed | undefined;
  #lookedAtAll = false;
  /** Torrents looked at (stats read) so far: tests check that idle ones are not. */
  #visits = 0;

  readonly #onState: (infoHash: string, state: string, now: number) => void;
  readonly #onError: (err: unknown) => void;
  /** Totals handed to the Store and not yet stored: still counted by pending(), put back on failure. */
  #writing = new Map<string, PendingTotals>();
  /** The writes handed to the Store (stop() waits for them). */
  #lastWrite: Promise<void> = Promise.resolve();

  /** onState: a torrent's state whenever it is looked at (the metadata watch uses it); onError: a
   *  failed write of the totals (they are kept for the next flush). */
  constructor(
    session: SessionHandle,
    store: Pick<TorrentOptionsStore, 'addTotals'>,
    onState: (infoHash: string, state: string, now: number) => void = () => {},
    onError: (err: unknown) => void = () => {},
  ) {
    this.#session = session;
    this.#store = store;
    this.#onState = onState;
    this.#onError = onError;
    this.#changes = session.changes?.();
  }

  get visits(): number {
    return this.#visits;
  }

  /** What has not been written yet (the listing adds it to the stored totals), seeding seconds up to now. */
  pending(infoHash: string, now = Date.now()): PendingTotals | undefined {
    const t = this.#session.get(infoHash);
    if (t) this.#look(t, now);
    const p = sum(this.#pending.get(infoHash), this.#writing.get(infoHash));
    const seen = this.#seen.get(infoHash);
    const running = seen?.seeding ? Math.max(0, now - seen.since) / 1000 : 0;
    if (running === 0) return p;
    return { downloaded: p?.downloaded ?? 0, uploaded: p?.uploaded ?? 0, seedingSeconds: (p?.seedingSeconds ?? 0) + running };
  }

  /** The tick's pass: every torrent whose revision moved; writes when a flush is due. */
  sample(now = Date.now()): void {
    const changed = this.#changes?.take();
    if (changed && this.#lookedAtAll) {
      for (const t of changed) if (this.#session.get(t.infoHashHex) === t) this.#look(t, now);
    } else {
      // The first pass (torrents loaded before the feed) and sessions without a feed: all of them.
      for (const t of this.#session.list()) this.#look(t, now);
      this.#lookedAtAll = true;
    }
    if (now - this.#lastFlush >= FLUSH_MS) this.flush(false, now);
  }

  #look(t: TorrentHandle, now: number): void {
    const seen = this.#seen.get(t.infoHashHex);
    if (seen && seen.t === t && seen.revision === t.revision) return;
    this.#visits++;
    const s = t.stats();
    this.#onState(t.infoHashHex, s.state, now);
    const seeding = s.state === 'seeding';
    // First sight, or another handle (loaded anew): the engine counts from when it loaded the
    // torrent, and none of that was counted here yet — all of it is new.
    const fresh = !seen || seen.t !== t;
    // A seed still seeding keeps counting from its `since` (pending() and the idle turn add those
    // seconds): its tracker's answers put nothing into pending, so the half-minute flush does not
    // walk 10,000 idle seeds and the map holds only torrents that moved bytes or stopped seeding.
    const still = !fresh && seen.seeding && seeding;
    this.#seen.set(t.infoHashHex, { t, revision: t.revision, downloaded: s.downloaded, uploaded: s.uploaded, seeding, since: still ? seen.since : now });
    const down = !fresh && s.downloaded >= seen.downloaded ? s.downloaded - seen.downloaded : s.downloaded;
    const up = !fresh && s.uploaded >= seen.uploaded ? s.uploaded - seen.uploaded : s.uploaded;
    const seconds = !fresh && seen.seeding && !still ? Math.max(0, now - seen.since) / 1000 : 0;
    this.#add(t.infoHashHex, down, up, seconds);
  }

  #add(infoHash: string, down: number, up: number, seconds: number): void {
    if (down === 0 && up === 0 && seconds === 0) return;
    const p = this.#pending.get(infoHash) ?? { downloaded: 0, uploaded: 0, seedingSeconds: 0 };
    p.downloaded += down;
    p.uploaded += up;
    p.seedingSeconds += seconds;
    this.#pending.set(infoHash, p);
  }

  /** Writes what accumulated: bytes always; seeding seconds of idle seeds when their (rarer) turn
   *  came, or on the final flush. Whole seconds are written and the fraction stays for next time;
   *  the final flush rounds it, as the list showed it. */
  flush(final = false, now = Date.now()): void {
    this.#lastFlush = now;
    const idleTurn = final || now - this.#lastIdleFlush >= IDLE_FLUSH_MS;
    if (idleTurn) {
      this.#lastIdleFlush = now;
      // Seeds' seconds up to now go into pending; they count on from now.
      for (const [ih, seen] of this.#seen) {
        if (this.#session.get(ih) !== seen.t) {
          this.#seen.delete(ih);
          continue;
        }
        if (!seen.seeding) continue;
        this.#add(ih, 0, 0, Math.max(0, now - seen.since) / 1000);
        seen.since = now;
      }
    }
    const batch: TotalsDelta[] = [];
    for (const [infoHash, p] of this.#pending) {
      const moved = p.downloaded !== 0 || p.uploaded !== 0;
      // Seconds alone (a seed that stopped seeding) wait for the idle turn: a half-minute flush
      // writes the torrents that moved bytes, not every seed the trackers touched.
      if (!moved && !idleTurn) continue;
      const whole = final ? Math.round(p.seedingSeconds) : Math.floor(p.seedingSeconds);
      if (!moved && whole === 0) continue;
      batch.push({ infoHash, downloaded: p.downloaded, uploaded: p.uploaded, seedingSeconds: whole });
    }
    if (batch.length === 0) return;
    // Out of pending into writing (so the next flush does not write them again, and the listing
    // still counts them) until the Store took them; back into pending if it did not.
    for (const d of batch) {
      const p = this.#pending.get(d.infoHash)!;
      const rest = p.seedingSeconds - d.seedingSeconds;
      if (rest > 0) this.#pending.set(d.infoHash, { downloaded: 0, uploaded: 0, seedingSeconds: rest });
      else this.#pending.delete(d.infoHash);
      this.#writing.set(d.infoHash, sum(this.#writing.get(d.infoHash), { downloaded: d.downloaded, uploaded: d.uploaded, seedingSeconds: d.seedingSeconds })!);
    }
    const done = (failed: unknown) => {
      for (const d of batch) {
        const w = this.#writing.get(d.infoHash);
        if (!w) continue;
        const rest = { downloaded: w.downloaded - d.downloaded, uploaded: w.uploaded - d.uploaded, seedingSeconds: w.seedingSeconds - d.seedingSeconds };
        if (rest.downloaded === 0 && rest.uploaded === 0 && rest.seedingSeconds === 0) this.#writing.delete(d.infoHash);
        else this.#writing.set(d.infoHash, rest);
        // A torrent forgotten meanwhile (removed) has nowhere for them to go.
        if (failed && this.#seen.has(d.infoHash)) this.#add(d.infoHash, d.downloaded, d.uploaded, d.seedingSeconds);
      }
      if (failed) {
        // Tried again soon, not a whole flush period later: the database is usually back within
        // seconds (a restart), and what it missed should not wait 30 s more each time it fails.
        this.#lastFlush = Math.min(this.#lastFlush, Date.now() - FLUSH_MS + RETRY_MS);
        this.#onError(failed);
      }
    };
    const write = this.#store.addTotals(batch).then(() => done(undefined), (err: unknown) => done(err ?? new Error('failed')));
    this.#lastWrite = Promise.all([this.#lastWrite, write]).then(() => {});
  }

  /** A torrent removed: its pending totals have nowhere to go. */
  forget(infoHash: string): void {
    this.#pending.delete(infoHash);
    this.#writing.delete(infoHash);
    this.#seen.delete(infoHash);
  }

  /** The last look and the final write (the node is stopping); resolves once it is stored. */
  async stop(): Promise<void> {
    const now = Date.now();
    this.sample(now);
    this.flush(true, now);
    this.#changes?.close();
    await this.#lastWrite;
  }
}

function sum(a: PendingTotals | undefined, b: PendingTotals | undefined): PendingTotals | undefined {
  if (!a || !b) return a ?? b;
  return { downloaded: a.downloaded + b.downloaded, uploaded: a.uploaded + b.uploaded, seedingSeconds: a.seedingSeconds + b.seedingSeconds };
}
