// BEP 32 for bittorrent-dht, which speaks IPv4 only: its compact node info is 26 bytes (20-byte id,
// IPv4, port), its peers 6 bytes, and it opens a udp4 socket. libtorrent runs one DHT per address
// family; so do we, the second instance over this socket. It is a udp6 socket dressed as a dgram
// socket of the IPv4 world: each IPv6 address is shown to bittorrent-dht as a *handle*, an address
// in 240.0.0.0/4 (reserved, never a real peer's), and messages are rewritten at the boundary —
// received `nodes6` (38 bytes a node) become `nodes` with handles, 18-byte `values` become 6-byte
// ones; our answers go the other way. Everything else (routing table, tokens, walks, announces)
// is bittorrent-dht's own, unchanged.
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { decode, encode, isDict, type BDict, type BValue } from '../encoding/bencode.ts';
import { concatBytes } from '../encoding/hex.ts';
import { ipv6Bytes, ipv6Text } from '../encoding/ip6.ts';

const HANDLE_BASE = 0xf0000001; // 240.0.0.1
const HANDLE_SPAN = 0x0ffffffe; // up to 255.255.255.254
/** Addresses remembered; past it the one unused longest is forgotten (its packets are dropped). */
const MAX_HANDLES = 50_000;

/** IPv6 address ↔ handle. Handles are never reused while the process runs (2^28 of them), so an
 *  entry forgotten from a full table can never be mistaken for another address. */
export class HandleTable {
  private readonly byAddress = new Map<string, number>();
  private readonly byHandle = new Map<number, string>();
  private next = 0;

  private readonly max: number;

  constructor(max = MAX_HANDLES) {
    this.max = max;
  }

  /** The handle (dotted) of a v6 address, made on first sight. */
  handle(address: string): string {
    let h = this.byAddress.get(address);
    if (h === undefined) {
      h = HANDLE_BASE + (this.next++ % HANDLE_SPAN);
      this.byAddress.set(address, h);
      this.byHandle.set(h, address);
      if (this.byAddress.size > this.max) {
        const [oldest, oh] = this.byAddress.entries().next().value as [string, number];
        this.byAddress.delete(oldest);
        this.byHandle.delete(oh);
      }
    } else {
      // Most recently used last: the oldest entry is the one forgotten.
      this.byAddress.delete(address);
      this.byAddress.set(address, h);
    }
    return `${h >>> 24}.${(h >>> 16) & 255}.${(h >>> 8) & 255}.${h & 255}`;
  }

  /** The v6 address a dotted handle stands for, or undefined (not a handle, or forgotten). A node
   *  we still send to counts as used: a flood of new senders forgets idle addresses first. */
  address(dotted: string): string | undefined {
    const n = dottedNumber(dotted);
    const address = n === undefined ? undefined : this.byHandle.get(n);
    if (address !== undefined) {
      this.byAddress.delete(address);
      this.byAddress.set(address, n!);
    }
    return address;
  }

  get size(): number {
    return this.byAddress.size;
  }
}

export function isHandle(dotted: string): boolean {
  const n = dottedNumber(dotted);
  return n !== undefined && n >= HANDLE_BASE;
}

function dottedNumber(s: string): number | undefined {
  const p = s.split('.');
  if (p.length !== 4) return undefined;
  let n = 0;
  for (const x of p) {
    const v = Number(x);
    if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

type SendCb = (err: Error | null, bytes?: number) => void;

/** What k-rpc-socket needs of a dgram socket (opts.socket). */
export class Dht6Socket extends EventEmitter {
  readonly handles = new HandleTable();
  private readonly udp = dgram.createSocket({ type: 'udp6', ipv6Only: true });

  constructor() {
    super();
    this.udp.on('message', (msg, rinfo) => this.received(msg, rinfo));
    this.udp.on('error', (err) => this.emit('error', err));
    this.udp.on('listening', () => this.emit('listening'));
    this.udp.on('close', () => this.emit('close'));
  }

  bind(port?: number, address?: string, cb?: () => void): void {
    if (cb) this.once('listening', cb);
    this.udp.bind({ port: port ?? 0, address: address && isIP(address) === 6 ? address : '::' });
  }

  address(): { address: string; family: string; port: number } {
    const a = this.udp.address();
    return { address: a.address, family: a.family, port: a.port };
  }

  close(): void {
    try {
      this.udp.close();
    } catch {
      this.emit('close');
    }
  }

  send(buf: Uint8Array, offset: number, length: number, port: number, host: string, cb?: SendCb): void {
    const to = this.handles.address(host) ?? (isIP(host) === 6 ? host : undefined);
    // A v4 node, or a handle forgotten since: nothing to send to on this socket.
    if (!to) return void cb?.(null, 0);
    const out = outgoing(buf.subarray(offset, offset + length), this.handles);
    this.udp.send(out, port, to, (err) => cb?.(err ?? null, out.length));
  }

  private received(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const from = rinfo.address.replace(/%.*$/, '');
    // A v4-mapped sender cannot reach a v6-only socket; anything else here is IPv6.
    const data = incoming(msg, this.handles);
    if (!data) return;
    this.emit('message', data, { address: this.handles.handle(from), family: 'IPv4', port: rinfo.port, size: data.length });
  }
}

/** Our v6 message to send: `nodes` (26 bytes a node, handles) → `nodes6` (38), 6-byte `values` → 18. */
export function outgoing(buf: Uint8Array, handles: HandleTable): Uint8Array {
  const msg = decodeDict(buf);
  const r = msg?.r;
  if (!msg || msg.y === undefined || !isDict(r) || (r.nodes === undefined && r.values === undefined)) return buf;
  if (r.nodes instanceof Uint8Array) {
    const six: Uint8Array[] = [];
    for (let i = 0; i + 26 <= r.nodes.length; i += 26) {
      const v6 = handles.address(dotted(r.nodes, i + 20));
      if (!v6) continue;
      const node = new Uint8Array(38);
      node.set(r.nodes.subarray(i, i + 20));
      node.set(ipv6Bytes(v6), 20);
      node.set(r.nodes.subarray(i + 24, i + 26), 36);
      six.push(node);
    }
    delete r.nodes;
    r.nodes6 = concatBytes(six);
  }
  if (Array.isArray(r.values)) {
    r.values = r.values.flatMap((v) => {
      const v6 = v instanceof Uint8Array && v.length === 6 ? handles.address(dotted(v, 0)) : undefined;
      if (!v6 || !(v instanceof Uint8Array)) return [];
      const peer = new Uint8Array(18);
      peer.set(ipv6Bytes(v6));
      peer.set(v.subarray(4, 6), 16);
      return [peer];
    });
  }
  return encode(msg);
}

/** A received v6 message as bittorrent-dht should see it, or null when it is not a dictionary. */
export function incoming(buf: Uint8Array, handles: HandleTable): Buffer | null {
  const msg = decodeDict(buf);
  if (!msg) return Buffer.from(buf); // not ours to judge: k-rpc-socket warns and drops it
  const r = msg.r;
  if (!isDict(r) || (r.nodes6 === undefined && r.nodes === undefined && r.values === undefined)) return Buffer.from(buf);
  // Nodes of the other family are unreachable from this socket (the IPv4 instance has its own).
  const nodes: Uint8Array[] = [];
  if (r.nodes6 instanceof Uint8Array) {
    for (let i = 0; i + 38 <= r.nodes6.length && nodes.length < 64; i += 38) {
      const host = ipv6Text(r.nodes6, i + 20);
      if (!usable(host)) continue;
      const node = new Uint8Array(26);
      node.set(r.nodes6.subarray(i, i + 20));
      node.set(dottedBytes(handles.handle(host)), 20);
      node.set(r.nodes6.subarray(i + 36, i + 38), 24);
      nodes.push(node);
    }
  }
  delete r.nodes6;
  r.nodes = concatBytes(nodes);
  if (Array.isArray(r.values)) {
    const peers: BValue[] = [];
    for (const v of r.values) {
      if (!(v instanceof Uint8Array) || v.length !== 18 || peers.length >= 200) continue;
      const host = ipv6Text(v, 0);
      if (!usable(host)) continue;
      const peer = new Uint8Array(6);
      peer.set(dottedBytes(handles.handle(host)));
      peer.set(v.subarray(16, 18), 4);
      peers.push(peer);
    }
    r.values = peers;
  }
  return Buffer.from(encode(msg));
}

/** Addresses a node or peer list may name on this socket: not unspecified, not v4-mapped. */
function usable(host: string): boolean {
  return host !== '::' && !host.startsWith('::ffff:');
}

function decodeDict(buf: Uint8Array): BDict | null {
  try {
    const v = decode(buf).value;
    return isDict(v) ? v : null;
  } catch {
    return null;
  }
}

function dotted(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

function dottedBytes(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}
