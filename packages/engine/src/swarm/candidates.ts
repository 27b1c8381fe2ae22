// Addresses a torrent may dial, with back-off: each failed dial or lost connection doubles the wait
// (to 5 min at most). Addresses learned from trackers, DHT or PEX are dropped after repeated
// failures; a peer given by hand is kept, since it may be the only source (a LAN box switched off
// for now).
import type { PeerAddress } from '../types.ts';
import { clock } from '../clock.ts';

export interface Candidate {
  addr: PeerAddress;
  source: string;
  failures: number;
  nextTry: number;
}

const MAX_CANDIDATES = 2000;
const MAX_FAILURES = 8;
const MAX_BACKOFF_MS = 300_000;
const NOTHING_TO_TRADE_REDIAL_MS = 5_000;

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
    c.nextTry = clock.now() + Math.min(MAX_BACKOFF_MS, 2000 * 2 ** c.failures);
    if (c.failures > MAX_FAILURES && c.source !== 'manual') this.#byKey.delete(key);
  }

  /** A connection to `key` closed. Two seeds have nothing to trade: the address is forgotten
   *  instead of redialled forever. A peer let go for having nothing to trade yet (neither side
   *  wanted anything for a while: torrent-swarm.ts) is dialled again after a short fixed wait, not a
   *  growing back-off: while a swarm waits for its seed every downloader is such a peer, and a
   *  back-off grown over two minutes of that kept them apart for a minute and more once the seed
   *  came (issue 60's late-seed stalls). Any other loss waits longer each time. */
  closed(key: string, reason: 'both seeding' | 'nothing to trade' | 'other'): void {
    const c = this.#byKey.get(key);
    if (!c) return;
    if (reason === 'both seeding') this.#byKey.delete(key);
    else if (reason === 'nothing to trade') c.nextTry = clock.now() + NOTHING_TO_TRADE_REDIAL_MS;
    else c.nextTry = clock.now() + Math.min(MAX_BACKOFF_MS, 5000 * 2 ** c.failures++);
  }
}
