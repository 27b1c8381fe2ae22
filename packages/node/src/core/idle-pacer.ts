// The pace of the node's content-id passes (issue 40: extras stay off the data path). A file's
// SHA-256 is read back from disk once its torrent is complete; while the node moves data (piece
// bytes in or out faster than BUSY_BYTES_PER_S) that pass only trickles — one 1 MiB slice per
// TRICKLE_MS, under 1% of a core — and it runs at full speed once the node has been quiet for
// QUIET_SAMPLES windows in a row (a second: a download that is only starting, or a pause between
// two, does not count as quiet). The rate comes from the session's byte counters, sampled at most
// every SAMPLE_MS while a pass runs.
import type { HashPacing } from '@cascade/content/node';
import type { SessionHandle } from './engine.ts';

const BUSY_BYTES_PER_S = 1024 * 1024;
const SAMPLE_MS = 250;
const TRICKLE_MS = 100;
const QUIET_SAMPLES = 4;

export interface ByteTotals {
  /** Piece bytes received and sent so far, all transports together. */
  (): number;
}

export class IdlePacer implements HashPacing {
  readonly #moved: ByteTotals;
  readonly #now: () => number;
  #sampleAt = 0;
  #sampleBytes = 0;
  #busy = true;
  #quiet = 0;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(moved: ByteTotals, opts: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {}) {
    this.#moved = moved;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Whether the last sample saw the node moving data (true until a first window was measured). */
  get busy(): boolean {
    return this.#busy;
  }

  readonly beforeSlice = async (): Promise<void> => {
    if (this.#sampleAt === 0) {
      // No window yet: measure one before the first read, so a pass never starts inside a transfer.
      this.#sample();
      await this.#sleep(SAMPLE_MS);
    }
    if (this.#now() - this.#sampleAt >= SAMPLE_MS) this.#sample();
    // Quiet: still one macrotask per slice, so the event loop serves sockets in between.
    await (this.#busy ? this.#sleep(TRICKLE_MS) : new Promise<void>((r) => setImmediate(r)));
  };

  #sample(): void {
    const now = this.#now();
    const bytes = this.#moved();
    if (this.#sampleAt > 0) {
      const seconds = Math.max(0.001, (now - this.#sampleAt) / 1000);
      this.#quiet = (bytes - this.#sampleBytes) / seconds > BUSY_BYTES_PER_S ? 0 : this.#quiet + 1;
      this.#busy = this.#quiet < QUIET_SAMPLES;
    }
    this.#sampleAt = now;
    this.#sampleBytes = bytes;
  }
}

/** Piece bytes a session has moved both ways (0 when it keeps no counters). */
export function sessionBytesMoved(session: Pick<SessionHandle, 'counters'>): ByteTotals {
  return () => {
    const c = session.counters?.();
    if (!c) return 0;
    const { bytesReceived: r, bytesSent: s } = c;
    return r.tcp + (r.utp ?? 0) + r.webrtc + r.webseed + s.tcp + (s.utp ?? 0) + s.webrtc + s.webseed;
  };
}
