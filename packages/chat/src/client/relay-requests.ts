// Requests to the chat relay over its socket: an event with an acknowledgement, answered or failed
// within a timeout, and every request in flight failed at once when the connection drops.
import { ChatError } from '../wire/envelope.ts';
import type { SocketLike } from './client-types.ts';
import type { Ack } from '../wire/protocol.ts';

export class RelayRequests {
  readonly #socket: SocketLike;
  readonly #timeoutMs: number;
  readonly #pending = new Set<(e: Error) => void>();

  constructor(socket: SocketLike, timeoutMs = 15_000) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
  }

  request<T>(event: string, arg: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.#socket.connected) {
        reject(new ChatError('not-authenticated', 'not connected'));
        return;
      }
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#pending.delete(fail);
        reject(e);
      };
      const timer = setTimeout(() => fail(new Error(`${event}: no answer from the server`)), this.#timeoutMs);
      this.#pending.add(fail);
      this.#socket.emit(event, arg, (res: Ack<object>) => {
        if (settled) return;
        settled = true;
        this.#pending.delete(fail);
        clearTimeout(timer);
        if (res && res.ok) resolve(res as T);
        else reject(new ChatError((res?.error ?? 'bad-request') as ChatError['code'], res?.message ?? res?.error ?? 'request failed'));
      });
    });
  }

  /** The connection dropped: every request still waiting fails with `err`. */
  failAll(err: Error): void {
    for (const fail of [...this.#pending]) fail(err);
  }
}
