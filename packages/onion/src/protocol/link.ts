// A link: one connection between two onion nodes that carries cells of every circuit between them.
// TCP and WebSocket (Node), WebSocket (browser) and WebRTC data channels each make one.

import { tabRelayAddress } from '../relay/signal.ts';

export interface Link {
  /** Where the other end is, for logs and for reusing a link to the same relay. */
  readonly remote: string;
  /** The side that opened the link picks circuit ids with the top bit set, the other side without,
   *  so the two never pick the same id for different circuits. */
  readonly initiator: boolean;
  send(cell: Uint8Array): void;
  onCell(fn: (cell: Uint8Array) => void): void;
  onClose(fn: () => void): void;
  close(): void;
}

/** Opens a link to a relay address ("tcp:host:port", a ws:// URL, or a tab relay's
 *  "webrtc:<signalling URL>#<did>", which only browsers dial). */
export type LinkDialer = (address: string, signal: AbortSignal) => Promise<Link>;

export function newCircId(link: Link, taken: (id: number) => boolean): number {
  for (;;) {
    const id = (crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff) | (link.initiator ? 0x80000000 : 0);
    if (id !== 0 && !taken(id >>> 0)) return id >>> 0;
  }
}

/** A link's address in EXTEND cells and descriptors: "tcp:host:port", the ws URL, or a tab
 *  relay's webrtc address. */
export function linkAddress(d: { id?: string; tcp?: string; ws?: string; rtc?: string }, prefer: 'tcp' | 'ws' = 'tcp'): string {
  if (d.rtc && !d.tcp && !d.ws && d.id) return tabRelayAddress(d.rtc, d.id);
  if (prefer === 'tcp' && d.tcp) return `tcp:${d.tcp}`;
  if (d.ws) return d.ws;
  if (d.tcp) return `tcp:${d.tcp}`;
  throw new Error('descriptor has no address');
}

/** Several users of one set of links: one link per remote address, opened once. */
export class LinkPool {
  private readonly dial: LinkDialer;
  private readonly links = new Map<string, Promise<Link>>();

  constructor(dial: LinkDialer) {
    this.dial = dial;
  }

  get(address: string, signal: AbortSignal): Promise<Link> {
    let p = this.links.get(address);
    if (!p) {
      p = this.dial(address, signal).then((link) => {
        link.onClose(() => {
          if (this.links.get(address) === p) this.links.delete(address);
        });
        return link;
      });
      p.catch(() => this.links.delete(address));
      this.links.set(address, p);
    }
    return p;
  }

  closeAll(): void {
    for (const p of this.links.values()) p.then((l) => l.close(), () => {});
    this.links.clear();
  }
}

/**
 * A Link over some transport: cells that arrive before anyone listens wait, close listeners run
 * once. The transport calls `deliver` for each cell and `ended` when it closes.
 */
export function makeLink(t: { remote: string; initiator: boolean; send(cell: Uint8Array): void; close(): void; isClosed(): boolean }): {
  link: Link;
  deliver(cell: Uint8Array): void;
  ended(): void;
} {
  const closeFns: (() => void)[] = [];
  let cellFn: ((cell: Uint8Array) => void) | undefined;
  const backlog: Uint8Array[] = [];
  return {
    link: {
      remote: t.remote,
      initiator: t.initiator,
      send: (cell) => {
        if (!t.isClosed()) t.send(cell);
      },
      onCell: (fn) => {
        cellFn = fn;
        for (const cell of backlog.splice(0)) fn(cell);
      },
      onClose: (fn) => (t.isClosed() ? queueMicrotask(fn) : closeFns.push(fn)),
      close: () => t.close(),
    },
    deliver: (cell) => (cellFn ? cellFn(cell) : backlog.push(cell)),
    ended: () => {
      for (const fn of closeFns.splice(0)) fn();
    },
  };
}
