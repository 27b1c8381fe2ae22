// The streams of one circuit at its exit. A request is a document ended by END, answered by a
// document; a tunnel (a WebSocket tracker session) is opened by a document ended by MSG_END and then
// carries messages both ways, each ended by MSG_END, until either side sends END.
import { RelayCmd, type RelayMessage } from '../protocol/cells.ts';
import { DocumentBuffer, MAX_REQUEST_BYTES, documentCells } from '../protocol/streams.ts';

export type ExitHandler = (request: unknown) => Promise<unknown>;

/** The exit's end of a tunnel: messages to the far side, and its close. */
export interface TunnelEnd {
  send(doc: unknown): void;
  close(): void;
}

/** Opens a tunnel for `request`, sending what comes back through `toClient`; refuses by throwing. */
export type TunnelHandler = (request: unknown, toClient: TunnelEnd) => TunnelEnd;

interface Stream {
  buf: DocumentBuffer;
  busy?: boolean;
  tunnel?: TunnelEnd;
}

const MAX_STREAMS = 16;

export class ExitStreams {
  private readonly streams = new Map<number, Stream>();
  private readonly reply: (m: RelayMessage) => void;
  private readonly exit: ExitHandler | undefined;
  private readonly tunnel: TunnelHandler | undefined;
  private closed = false;

  constructor(reply: (m: RelayMessage) => void, exit: ExitHandler | undefined, tunnel: TunnelHandler | undefined) {
    this.reply = reply;
    this.exit = exit;
    this.tunnel = tunnel;
  }

  /** Takes a stream cell; returns false when the circuit broke the protocol (and must die). */
  take(m: RelayMessage): boolean {
    if (!this.exit) {
      this.refuse(m.streamId, 'not an exit');
      return true;
    }
    let s = this.streams.get(m.streamId);
    if (m.cmd === RelayCmd.BEGIN) {
      if (s || this.streams.size >= MAX_STREAMS) return false;
      this.streams.set(m.streamId, (s = { buf: new DocumentBuffer(MAX_REQUEST_BYTES) }));
    }
    if (!s) return m.cmd === RelayCmd.END; // an END for a stream already gone is no fault
    if (s.busy) return false;
    if (m.cmd === RelayCmd.DATA || m.cmd === RelayCmd.BEGIN) {
      try {
        s.buf.add(m.data);
        return true;
      } catch {
        return false;
      }
    }
    if (m.cmd === RelayCmd.MSG_END) return this.message(m.streamId, s);
    // END: a request is complete, or the client closes its tunnel.
    if (s.tunnel) {
      this.streams.delete(m.streamId);
      s.tunnel.close();
      return true;
    }
    this.request(m.streamId, s);
    return true;
  }

  private message(id: number, s: Stream): boolean {
    let doc: unknown;
    try {
      doc = s.buf.json();
    } catch {
      return false;
    }
    s.buf = new DocumentBuffer(MAX_REQUEST_BYTES);
    if (s.tunnel) {
      s.tunnel.send(doc);
      return true;
    }
    if (!this.tunnel) {
      this.streams.delete(id);
      this.refuse(id, 'this exit opens no tunnels');
      return true;
    }
    try {
      s.tunnel = this.tunnel(doc, {
        send: (answer) => {
          if (!this.closed && this.streams.get(id) === s) for (const cell of documentCells(id, answer, 'DATA', 'MSG_END')) this.reply(cell);
        },
        close: () => {
          if (this.closed || this.streams.get(id) !== s) return;
          this.streams.delete(id);
          this.reply({ cmd: RelayCmd.END, streamId: id, data: new Uint8Array(0) });
        },
      });
    } catch (err) {
      this.streams.delete(id);
      this.refuse(id, err instanceof Error ? err.message : String(err));
    }
    return true;
  }

  private request(id: number, s: Stream): void {
    s.busy = true;
    let request: unknown;
    try {
      request = s.buf.json();
    } catch {
      request = undefined;
    }
    const answer = request === undefined ? Promise.resolve({ ok: false, error: 'request is not JSON' }) : this.exit!(request);
    answer
      .then(
        (doc) => doc,
        (err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      )
      .then((doc) => {
        if (this.closed) return;
        this.streams.delete(id);
        for (const cell of documentCells(id, doc, 'DATA')) this.reply(cell);
      });
  }

  private refuse(id: number, why: string): void {
    this.reply({ cmd: RelayCmd.END, streamId: id, data: new TextEncoder().encode(why) });
  }

  /** The circuit is gone: every tunnel closes. */
  close(): void {
    this.closed = true;
    for (const s of this.streams.values()) s.tunnel?.close();
    this.streams.clear();
  }
}

