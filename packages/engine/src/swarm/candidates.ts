// Addresses a torrent may dial, with back-off: each failed dial or lost connection doubles the wait
// (to 5 min at most). Addresses learned from trackers, DHT or PEX are dropped after repeated
// failures; a peer given by hand is kept, since it may be the only source (a LAN box switched off
// for now).
import type { PeerAddress } from '../types.ts';

export interface Candidate {
  addr: PeerAddress;
  source: string;
  failures: number;
  nextTry: number;
}

const MAX_CANDIDATES = 2000;
const MAX_FAILURES = 8;
const MAX_BACKOFF_MS = 300_000;

export class Candidates {
  readonly #byKey = new Map<string, Candidate>();

  get size(): number {
    return this.#byKey.size;
  }

  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** False when the book is full (the address is simply not remembered). */
  add(key: string, addr: PeerAddress, source: string): boolean {
    if (this.#byKey.size > MAX_CANDIDATES) return false;
    this.#byKey.set(key, { addr, source, failures: 0, nextTry: 0 });
    return true;
  }

  delete(key: string): void {
    this.#byKey.delete(key);
  }

  entries(): IterableIterator<[string, Candidate]> {
    return this.#byKey.entries();
  }

  /** The torrent (re)starts: every address may be dialled now, whatever its back-off said. */
  retryNow(): void {
    for (const c of this.#byKey.values()) c.nextTry = 0;
  }

  /** A dial to `key` failed. */
  dialFailed(key: string, c: Candidate): void {
    c.failures++;
    c.nextTry = Date.now() + Math.min(MAX_BACKOFF_MS, 2000 * 2 ** c.failures);
    if (c.failures > MAX_FAILURES && c.source !== 'manual') this.#byKey.delete(key);
  }

  /** A connection to `key` closed: two seeds have nothing to trade, so that address is forgotten
   *  instead of redialled forever; otherwise it waits before the next dial. */
  closed(key: string, bothSeeding: boolean): void {
    const c = this.#byKey.get(key);
    if (!c) return;
    if (bothSeeding) this.#byKey.delete(key);
    else c.nextTry = Date.now() + Math.min(MAX_BACKOFF_MS, 5000 * 2 ** c.failures++);
  }
}
