// The client end of an in-process WebSocket-tracker connection: the part of the browser's WebSocket
// a tracker client uses (readyState, send, close, open/message/close listeners), wired straight to
// the tracker's connection handling. A node's own torrents announce to its built-in tracker through
// it: at 10,000 seeds those re-announces (5.6 a second) went through two WebSocket stacks and the
// loopback, some 0.9% of a core for messages that never left the process.

type Listener = (event: { data?: string }) => void;

/** What the tracker gives the client end: where its messages go, and how it says it is closing. */
export interface LocalWsServerEnd {
  message(text: string): void;
  closed(): void;
}

export class LocalWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readyState = LocalWebSocket.CONNECTING;
  /** Kept for the WebSocket shape; messages are always strings. */
  binaryType = 'arraybuffer';
  #listeners = new Map<string, Listener[]>();
  #server: LocalWsServerEnd | undefined;

  /** @internal The tracker's side, set as the connection is made. */
  attach(server: LocalWsServerEnd): void {
    this.#server = server;
    // As a socket would: 'open' after the caller has had a chance to add its listeners.
    queueMicrotask(() => {
      if (this.readyState !== LocalWebSocket.CONNECTING) return;
      this.readyState = LocalWebSocket.OPEN;
      this.#emit('open', {});
    });
  }

  addEventListener(type: string, fn: Listener): void {
    const list = this.#listeners.get(type);
    if (list) list.push(fn);
    else this.#listeners.set(type, [fn]);
  }

  removeEventListener(type: string, fn: Listener): void {
    const list = this.#listeners.get(type);
    if (list) this.#listeners.set(type, list.filter((f) => f !== fn));
  }

  send(text: string): void {
    if (this.readyState !== LocalWebSocket.OPEN) throw new Error('WebSocket is not open');
    // Asynchronous, in order, as over a socket: the sender's call returns before the tracker acts.
    const server = this.#server!;
    queueMicrotask(() => server.message(String(text)));
  }

  close(): void {
    if (this.readyState >= LocalWebSocket.CLOSING) return;
    this.#server?.closed();
    this.#ended();
  }

  /** @internal A message from the tracker. */
  deliver(text: string): void {
    if (this.readyState !== LocalWebSocket.OPEN) return;
    queueMicrotask(() => {
      if (this.readyState === LocalWebSocket.OPEN) this.#emit('message', { data: text });
    });
  }

  /** @internal The tracker ended the connection (it is closing). */
  terminated(): void {
    if (this.readyState >= LocalWebSocket.CLOSING) return;
    this.#ended();
  }

  #ended(): void {
    this.readyState = LocalWebSocket.CLOSED;
    queueMicrotask(() => this.#emit('close', {}));
  }

  #emit(type: string, event: { data?: string }): void {
    for (const fn of this.#listeners.get(type) ?? []) fn(event);
  }
}
