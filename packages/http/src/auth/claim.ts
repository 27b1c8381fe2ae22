// The first-run claim (issue 44): a signed-in browser presents the one-time claim code that
// `cascade serve` printed and `cascade claim-code` shows (<state-dir>/claim-code, 0600). The code,
// not the caller's address, is the proof of holding the machine: behind a reverse proxy every
// visitor came from 127.0.0.1, and under Docker the owner never does. Wrong codes are counted per
// client address (the proxy's forwarded one only when the owner named it: --trusted-proxy), so
// nobody can try codes fast; 80 bits would outlast them anyway.

export const CLAIM_TRIES = 10;
export const CLAIM_WINDOW_MS = 15 * 60 * 1000;
/** Addresses remembered at most (anyone may try): past it the oldest are forgotten. */
const MAX_ADDRESSES = 10_000;

export class ClaimTries {
  readonly #tries = new Map<string, { n: number; since: number }>();

  /** Minutes until `address` may try again, or 0 when it may now. */
  waitMinutes(address: string, now = Date.now()): number {
    const t = this.#tries.get(address);
    if (!t || now - t.since >= CLAIM_WINDOW_MS) return 0;
    return t.n >= CLAIM_TRIES ? Math.ceil((t.since + CLAIM_WINDOW_MS - now) / 60_000) : 0;
  }

  failed(address: string, now = Date.now()): void {
    const t = this.#tries.get(address);
    if (t && now - t.since < CLAIM_WINDOW_MS) {
      t.n++;
      return;
    }
    this.#tries.delete(address);
    if (this.#tries.size >= MAX_ADDRESSES) this.#tries.delete(this.#tries.keys().next().value!);
    this.#tries.set(address, { n: 1, since: now });
  }
}
