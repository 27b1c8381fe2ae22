// The batched UDP transport (Linux): native/udp-mmsg.c reads up to `slots` datagrams per
// recvmmsg(2) into a receive ring and calls back once per batch; replies are written into a send
// ring and leave in one sendmmsg(2) when the batch is handled. Per datagram, Node's dgram makes a
// Buffer, an address string and an object in C++, calls into JavaScript, and on the way out checks
// its arguments, makes a request object and calls sendmsg(2): several microseconds that were
// most of a UDP announce's cost. Ring layout: see udp-mmsg.c.

import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { parseIp16 } from '../store/ip16.ts';
import { ipv6Text } from '@cascade/engine/ip6';
import type { UdpHandler, UdpRemote, UdpTransport } from './transport.ts';

interface Rings {
  rx: Buffer;
  rxMeta: Uint8Array;
  tx: Buffer;
  txMeta: Uint8Array;
}

export interface MmsgAddon {
  slots: number;
  slotBytes: number;
  metaBytes: number;
  open(host: string, port: number, ipv6Only: boolean, recvBufferSize: number, sendBufferSize: number): [number, number];
  start(fd: number, v6: boolean, rings: Rings, onBatch: (n: number) => void): object;
  send(handle: object, n: number): number;
  close(handle: object): void;
}

let addon: MmsgAddon | null | undefined;

/** The addon, or undefined where it is not built (or not Linux). Loaded once. */
export function mmsgAddon(): MmsgAddon | undefined {
  if (addon === undefined) {
    try {
      addon = process.platform === 'linux' ? (createRequire(import.meta.url)('../../native/build/udp-mmsg.node') as MmsgAddon) : null;
    } catch {
      addon = null;
    }
  }
  return addon ?? undefined;
}

// Socket buffers of 4 MB: a burst of a few thousand announces waits in the kernel rather than
// being dropped while a batch is handled (the kernel caps them at net.core.[rw]mem_max).
const BUFFER_BYTES = 4 << 20;

/**
 * A sender: dgram's RemoteInfo fields, and where its address bytes sit while its batch lasts. One
 * per ring slot, rewritten for each datagram read into that slot (UdpHandler: valid during the call).
 */
class MmsgRemote implements UdpRemote {
  address = '';
  family: 'IPv4' | 'IPv6' = 'IPv4';
  port = 0;
  size = 0;
  batch = 0;
  readonly slot: number;
  readonly bytes: Uint8Array;
  readonly bytesOffset: number;
  constructor(slot: number, meta: Uint8Array, metaBytes: number) {
    this.slot = slot;
    this.bytes = meta;
    this.bytesOffset = slot * metaBytes + 12;
  }
}

export class MmsgTransport implements UdpTransport {
  readonly io = 'mmsg';
  readonly reusesBuffers = true;
  readonly replyRing: Buffer;
  private readonly addon: MmsgAddon;
  private readonly onMessage: UdpHandler;
  private readonly onDropped: (n: number) => void;
  private readonly rings: Rings;
  private readonly rxI32: Int32Array;
  private readonly rxU16: Uint16Array;
  private readonly txI32: Int32Array;
  private readonly txU16: Uint16Array;
  private readonly slots: number;
  private readonly remotes: MmsgRemote[];
  /**
   * Per ring slot, the last view of a datagram read into it: a client's requests are mostly the
   * same size (98 bytes, an announce), and a Buffer made per datagram cost as much as the rest of
   * its reading. Valid during the call, like the bytes it views (UdpHandler).
   */
  private readonly views: Buffer[];
  private readonly slotBytes: number;
  private readonly metaBytes: number;
  private handle: object | undefined;
  private bound = { address: '', port: 0 };
  private v6 = false;
  private batch = 0;
  // The last IPv4 sender's address, as a number and as text: a client's requests come in runs
  // (connect then announce, one announce per torrent, a NAT of many peers), and the text is a
  // string built from four numbers each time otherwise.
  private lastIp4 = -1;
  private lastText = '';
  private inBatch = false;
  private held = 0;
  private scheduled = false;
  private readonly flushLater = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(a: MmsgAddon, onMessage: UdpHandler, onDropped: (n: number) => void) {
    this.addon = a;
    this.onMessage = onMessage;
    this.onDropped = onDropped;
    this.slots = a.slots;
    this.slotBytes = a.slotBytes;
    this.metaBytes = a.metaBytes;
    const meta = () => new Uint8Array(new ArrayBuffer(a.slots * a.metaBytes));
    this.rings = { rx: Buffer.alloc(a.slots * a.slotBytes), rxMeta: meta(), tx: Buffer.alloc(a.slots * a.slotBytes), txMeta: meta() };
    this.replyRing = this.rings.tx;
    this.remotes = Array.from({ length: a.slots }, (_, i) => new MmsgRemote(i, this.rings.rxMeta, a.metaBytes));
    this.views = Array.from({ length: a.slots }, (_, i) => this.rings.rx.subarray(i * a.slotBytes, i * a.slotBytes));
    this.rxI32 = new Int32Array(this.rings.rxMeta.buffer);
    this.rxU16 = new Uint16Array(this.rings.rxMeta.buffer);
    this.txI32 = new Int32Array(this.rings.txMeta.buffer);
    this.txU16 = new Uint16Array(this.rings.txMeta.buffer);
  }

  async listen(port: number, host: string): Promise<void> {
    this.v6 = isIP(host) === 6;
    // Dual-stack for '::' and the like, as dgram's udp6 sockets are.
    const [fd, boundPort] = this.addon.open(host, port, false, BUFFER_BYTES, BUFFER_BYTES);
    this.handle = this.addon.start(fd, this.v6, this.rings, this.onBatch);
    this.bound = { address: host, port: boundPort };
  }

  address(): { address: string; port: number } {
    return this.bound;
  }

  private readonly onBatch = (n: number): void => {
    const { rx, rxMeta } = this.rings;
    const sb = this.slotBytes;
    const mb = this.metaBytes;
    const batch = ++this.batch;
    this.inBatch = true;
    try {
      for (let i = 0; i < n; i++) {
        const size = this.rxI32[(i * mb) >> 2]!;
        const port = this.rxU16[(i * mb + 8) >> 1]!;
        const a = i * mb + 12;
        let address: string;
        if (rxMeta[i * mb + 10] === 4) {
          const ip4 = ((rxMeta[a + 12]! << 24) | (rxMeta[a + 13]! << 16) | (rxMeta[a + 14]! << 8) | rxMeta[a + 15]!) >>> 0;
          if (ip4 !== this.lastIp4) {
            this.lastIp4 = ip4;
            this.lastText = `${rxMeta[a + 12]}.${rxMeta[a + 13]}.${rxMeta[a + 14]}.${rxMeta[a + 15]}`;
          }
          address = this.lastText;
        } else address = ipv6Text(rxMeta, a);
        const from = this.remotes[i]!;
        from.address = address;
        from.family = this.v6 ? 'IPv6' : 'IPv4';
        from.port = port;
        from.size = size;
        from.batch = batch;
        try {
          const len = Math.min(size, sb);
          let msg = this.views[i]!;
          if (msg.length !== len) this.views[i] = msg = rx.subarray(i * sb, i * sb + len);
          this.onMessage(msg, from);
        } catch {
          // One bad datagram must not cost the rest of the batch (udp.ts counts its own failures).
        }
      }
    } finally {
      this.inBatch = false;
      this.flush();
    }
  };

  send(buf: Buffer, length: number, to: UdpRemote): void {
    if (!this.handle || length > this.slotBytes) return;
    buf.copy(this.rings.tx, this.reserve(), 0, length);
    this.commit(length, to);
  }

  /** Where the next reply goes in the send ring (its slot is taken by commit()). */
  reserve(): number {
    if (this.held === this.slots) this.flush();
    return this.held * this.slotBytes;
  }

  commit(length: number, to: UdpRemote): void {
    if (!this.handle || length > this.slotBytes) return;
    const k = this.held++;
    const mb = this.metaBytes;
    const { txMeta, rxMeta } = this.rings;
    this.txI32[(k * mb) >> 2] = length;
    this.txU16[(k * mb + 8) >> 1] = to.port;
    if (to instanceof MmsgRemote && to.batch === this.batch && this.inBatch) {
      // Answered within its batch: the address bytes (and IPv6 scope) are still in the receive ring.
      const from = to.slot * mb;
      for (let j = 4; j < 8; j++) txMeta[k * mb + j] = rxMeta[from + j]!;
      for (let j = 12; j < 28; j++) txMeta[k * mb + j] = rxMeta[from + j]!;
    } else {
      // Answered later (a store that answers asynchronously): from the text.
      this.txI32[(k * mb + 4) >> 2] = 0;
      parseIp16(to.address, txMeta, k * mb + 12);
    }
    if (!this.inBatch && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
  }

  private flush(): void {
    const n = this.held;
    if (n === 0 || !this.handle) return;
    this.held = 0;
    const dropped = this.addon.send(this.handle, n);
    if (dropped > 0) this.onDropped(dropped);
  }

  async close(): Promise<void> {
    if (!this.handle) return;
    this.flush();
    this.addon.close(this.handle);
    this.handle = undefined;
    // The socket closes when libuv lets go of it, at the end of this loop iteration.
    await new Promise((r) => setImmediate(r));
  }
}
