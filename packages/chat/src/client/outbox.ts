// The outbox: envelopes on their way to the relay, in order, kept until the relay has stored them
// (across disconnects, and across page reloads when given a store: ciphertext only). A batch the
// relay refuses marks its messages failed; a timeout or a lost connection leaves it for the next
// connection.
import { ChatError, type Envelope, isEnvelope } from '../wire/envelope.ts';
import type { ChatMessage, OutboxStore, Outgoing } from './client-types.ts';

/** What the outbox needs of its client. */
export interface OutboxHost {
  /** Signed in and synced: sends may go out. */
  canSend(): boolean;
  connected(): boolean;
  request<T>(event: string, arg: unknown): Promise<T>;
  findMessage(id: string): ChatMessage | undefined;
  changed(): void;
  notice(code: string, text: string): void;
}

export class Outbox {
  readonly #host: OutboxHost;
  readonly #store: OutboxStore | undefined;
  readonly #batches: Outgoing[] = [];
  #flushing = false;

  constructor(host: OutboxHost, store: OutboxStore | undefined) {
    this.#host = host;
    this.#store = store;
  }

  /** Envelopes waiting, over all batches. */
  size(): number {
    return this.#batches.reduce((n, o) => n + o.envs.length, 0);
  }

  get waiting(): boolean {
    return this.#batches.length > 0;
  }

  /** Envelopes a previous page wrote but never got stored: `show` files each (as history) before
   *  its messages are marked sending again, and they go out with the next flush. */
  async restore(me: string, show: (env: Envelope) => void): Promise<void> {
    let saved: { envs: Envelope[]; copy: boolean }[] = [];
    try {
      saved = (await this.#store?.load()) ?? [];
    } catch { /* unreadable store: nothing to restore */ }
    for (const b of saved) {
      const envs = (Array.isArray(b?.envs) ? b.envs : []).filter((e) => isEnvelope(e) && e.from === me);
      if (envs.length === 0) continue;
      for (const e of envs) show(e);
      const msgIds = envs.filter((e) => e.type !== 'skey').map((e) => e.id);
      for (const id of msgIds) {
        const m = this.#host.findMessage(id);
        if (m) m.status = 'sending';
      }
      this.#batches.push({ envs, copy: b.copy === true, msgIds });
    }
  }

  push(o: Outgoing): void {
    this.#batches.push(o);
    this.#persist();
    void this.flush();
  }

  async flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    const host = this.#host;
    try {
      while (this.#batches.length > 0 && host.canSend()) {
        const o = this.#batches[0]!;
        try {
          const r = await host.request<{ results: { id: string; seq: number }[] }>('send', { envs: o.envs, copy: o.copy });
          this.#batches.shift();
          this.#persist();
          for (const res of r.results) {
            const m = host.findMessage(res.id);
            if (m) {
              m.seq = res.seq;
              if (m.status === 'sending') m.status = 'sent';
              if (m.via === 'local') m.via = 'relay';
            }
          }
          host.changed();
        } catch (e) {
          const code = e instanceof ChatError ? e.code : 'timeout';
          if (code === 'rate-limited') {
            host.notice('rate-limited', 'Sending too fast — messages are queued and will go out shortly.');
            await new Promise((r) => setTimeout(r, 1500));
            continue;
          }
          if (code === 'timeout' || code === 'not-authenticated' || !host.connected()) break; // retried on reconnect
          this.#batches.shift();
          this.#persist();
          for (const id of o.msgIds) {
            const m = host.findMessage(id);
            if (m) m.status = 'failed';
          }
          host.notice(code, `Message not sent: ${(e as Error).message}`);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #persist(): void {
    if (!this.#store) return;
    try {
      void Promise.resolve(this.#store.save(this.#batches.map((o) => ({ envs: o.envs, copy: o.copy })))).catch(() => {});
    } catch { /* best effort */ }
  }
}
