// Envelopes the client refused (forged, tampered, undecryptable): each is reported once, and when
// one came as a live relay push the relay's stored copy is fetched again shortly, so a message
// damaged in transit still arrives in its genuine form.
import type { Envelope } from '../wire/envelope.ts';
import type { StoredEnvelope } from '../wire/protocol.ts';

export interface RejectionsHost {
  /** Signed in and not closed: a resync may go out. */
  canSend(): boolean;
  request<T>(event: string, arg: unknown): Promise<T>;
  notice(code: string, text: string, conv?: string): void;
  /** Files an envelope of the relay's history (the same path a sync takes). */
  ingest(env: unknown): void;
}

export class Rejections {
  readonly #host: RejectionsHost;
  /** Envelopes already rejected (id, signature, ciphertext tail): a second sighting is not announced again. */
  readonly #seen = new Set<string>();
  #from: number | undefined;
  #to = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: RejectionsHost) {
    this.#host = host;
  }

  reject(env: Envelope, via: 'relay' | 'history' | 'p2p', seq: number | undefined, code: string, text: string, conv: string | undefined): void {
    const key = `${env.id}|${env.sig}|${env.ct.length}|${env.ct.slice(-24)}`;
    if (!this.#seen.has(key)) {
      this.#seen.add(key);
      this.#host.notice(code, text, conv);
    }
    if (via === 'relay' && typeof seq === 'number' && seq > 0) {
      this.#from = Math.min(this.#from ?? Infinity, seq - 1);
      this.#to = Math.max(this.#to, seq);
      this.#timer ??= setTimeout(() => void this.#resync(), 500);
    }
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #resync(): Promise<void> {
    this.#timer = undefined;
    const since = this.#from;
    const upTo = this.#to;
    this.#from = undefined;
    if (since === undefined || !this.#host.canSend()) return;
    try {
      // only up to the last rejected push: anything later still arrives live, and must not look replayed then
      const r = await this.#host.request<{ items: StoredEnvelope[] }>('sync', { since, limit: Math.min(500, upTo - since) });
      for (const it of r.items) if (it.seq <= upTo) this.#host.ingest(it.env);
    } catch { /* next reconnect syncs anyway */ }
  }
}
