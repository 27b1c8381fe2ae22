// What outlives the request that opened it (a live feed socket, a file streamed for an hour) was
// admitted once, with the credential of that moment. It is held here with its request and the
// access it needed, and admitted again whenever a credential changes (the API token rotated, a
// member removed or given another role, a sign-out: AuthContext.changed) and every few seconds
// (members changed from outside the node, `cascade users remove` on its state): what the gate now
// refuses ends at once (issue 65). Ordinary requests are admitted once and never held.
import type { IncomingMessage } from 'node:http';
import type { Access, Gate } from './gate.ts';

/** How often held things are admitted again when nothing said a credential changed. */
const RECHECK_EVERY_MS = 5000;

interface Held {
  req: Pick<IncomingMessage, 'headers' | 'method'>;
  access: Access;
  end: () => void;
}

export class Holds {
  readonly #gate: Gate;
  readonly #held = new Set<Held>();
  #timer: NodeJS.Timeout | undefined;

  constructor(gate: Gate) {
    this.#gate = gate;
  }

  /** Holds what `req` opened, admitted for `access`; `end` ends it. Returns the release to call
   *  when it ends by itself. */
  hold(req: Held['req'], access: Access, end: () => void): () => void {
    const h: Held = { req, access, end };
    this.#held.add(h);
    this.#timer ??= setInterval(() => void this.recheck(), RECHECK_EVERY_MS).unref();
    return () => this.#release(h);
  }

  get size(): number {
    return this.#held.size;
  }

  /** Admits everything held again; what is refused ends. One whose caller cannot be read now (a
   *  database restarting) stays until the next recheck. */
  async recheck(): Promise<void> {
    await Promise.all(
      [...this.#held].map(async (h) => {
        let r: Awaited<ReturnType<Gate['admit']>>;
        try {
          r = await this.#gate.admit(h.req, h.access);
        } catch {
          return;
        }
        if ('status' in r && this.#release(h)) h.end();
      }),
    );
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#held.clear();
  }

  #release(h: Held): boolean {
    const was = this.#held.delete(h);
    if (this.#held.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    return was;
  }
}
