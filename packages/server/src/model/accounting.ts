// Totals over every run: the engine counts bytes since a torrent was loaded, the node keeps the sum
// across restarts (ratio, seeding goals) and the seconds spent seeding. Deltas are gathered every
// few seconds and written in one transaction at most every FLUSH_MS (and when the node stops).

import type { SessionHandle } from '../engine.ts';
import type { PendingTotals } from '../listing.ts';
import type { TorrentOptionsStore, TotalsDelta } from './torrent-options.ts';

const SAMPLE_MS = 2000;
const FLUSH_MS = 30_000;

export class Accounting {
  readonly #session: SessionHandle;
  readonly #store: TorrentOptionsStore;
  /** The engine's counters at the last sample, per torrent. */
  #seen = new Map<string, { downloaded: number; uploaded: number; at: number; seeding: boolean }>();
  #pending = new Map<string, PendingTotals>();
  #timer: NodeJS.Timeout | undefined;
  #lastFlush = Date.now();

  readonly #onState: (infoHash: string, state: string, now: number) => void;

  /** onState: each torrent's state at every sample (the metadata watch uses it). */
  constructor(session: SessionHandle, store: TorrentOptionsStore, onState: (infoHash: string, state: string, now: number) => void = () => {}) {
    this.#session = session;
    this.#store = store;
    this.#onState = onState;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.sample(), SAMPLE_MS);
    this.#timer.unref();
  }

  /** What has not been written yet: the listing adds it to the stored totals. */
  pending(infoHash: string): PendingTotals | undefined {
    this.#sampleOne(infoHash, Date.now());
    return this.#pending.get(infoHash);
  }

  sample(): void {
    const now = Date.now();
    for (const t of this.#session.list()) this.#sampleOne(t.infoHashHex, now);
    for (const ih of this.#seen.keys()) if (!this.#session.get(ih)) this.#seen.delete(ih);
    if (now - this.#lastFlush >= FLUSH_MS) this.flush();
  }

  #sampleOne(infoHash: string, now: number): void {
    const t = this.#session.get(infoHash);
    if (!t) return;
    const s = t.stats();
    this.#onState(infoHash, s.state, now);
    const seeding = s.state === 'seeding';
    const last = this.#seen.get(infoHash);
    this.#seen.set(infoHash, { downloaded: s.downloaded, uploaded: s.uploaded, at: now, seeding });
    if (!last) return;
    // Counters start again at 0 when a torrent is loaded anew: then all of the new count is new.
    const down = s.downloaded >= last.downloaded ? s.downloaded - last.downloaded : s.downloaded;
    const up = s.uploaded >= last.uploaded ? s.uploaded - last.uploaded : s.uploaded;
    const seconds = last.seeding && seeding ? (now - last.at) / 1000 : 0;
    if (down === 0 && up === 0 && seconds === 0) return;
    const p = this.#pending.get(infoHash) ?? { downloaded: 0, uploaded: 0, seedingSeconds: 0 };
    p.downloaded += down;
    p.uploaded += up;
    p.seedingSeconds += seconds;
    this.#pending.set(infoHash, p);
  }

  /** Writes what accumulated. Whole seconds are written and the fraction stays for next time; the
   *  last flush (final) rounds it, as the list showed it. */
  flush(final = false): void {
    this.#lastFlush = Date.now();
    const batch: TotalsDelta[] = [];
    for (const [infoHash, p] of this.#pending) {
      const whole = final ? Math.round(p.seedingSeconds) : Math.floor(p.seedingSeconds);
      batch.push({ infoHash, downloaded: p.downloaded, uploaded: p.uploaded, seedingSeconds: whole });
    }
    if (batch.length === 0) return;
    this.#store.addTotals(batch);
    for (const d of batch) {
      const p = this.#pending.get(d.infoHash)!;
      const rest = p.seedingSeconds - d.seedingSeconds;
      if (rest > 0) this.#pending.set(d.infoHash, { downloaded: 0, uploaded: 0, seedingSeconds: rest });
      else this.#pending.delete(d.infoHash);
    }
  }

  /** A torrent removed: its pending totals have nowhere to go. */
  forget(infoHash: string): void {
    this.#pending.delete(infoHash);
    this.#seen.delete(infoHash);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
    this.flush(true);
  }
}
