// BEP 10 extension handshake, BEP 9 ut_metadata and BEP 11 ut_pex payloads.

import { decode, encode, isDict, text, type BDict } from '../encoding/bencode.ts';
import type { PeerAddress } from '../types.ts';
import { ipv6Bytes, ipv6Text } from '../encoding/ip6.ts';

/** Our local ids for the extensions we speak; peers tell us theirs in their handshake. */
export const LOCAL_EXT = { ut_metadata: 1, ut_pex: 2, ut_holepunch: 3 } as const;
export const METADATA_PIECE = 16 * 1024;
export const MAX_METADATA_SIZE = 32 * 1024 * 1024;

export interface ExtHandshake {
  m: Record<string, number>;
  metadataSize?: number;
  port?: number;
  client?: string;
  reqq?: number;
  /** BEP 10 `yourip`: our address as the peer sees it (IPv4 or IPv6 text). */
  yourIp?: string;
  /** BEP 10 `ipv6`: the peer's own IPv6 address, where it can be reached besides this connection. */
  ipv6?: string;
}

/** Local id of a registered extension: after ours, in registration order. */
export function extensionLocalId(index: number): number {
  return 4 + index;
}

/** `holepunch: false` leaves ut_holepunch out (a node without uTP cannot answer a BEP 55 connect). */
export function encodeExtHandshake(opts: { metadataSize?: number; port?: number; client: string; reqq: number; extensions?: string[]; yourIp?: string; ipv6?: string; holepunch?: boolean }): Uint8Array {
  const m: Record<string, number> = { ...LOCAL_EXT };
  if (opts.holepunch === false) delete m.ut_holepunch;
  (opts.extensions ?? []).forEach((name, i) => (m[name] = extensionLocalId(i)));
  return encode({
    m,
    metadata_size: opts.metadataSize,
    p: opts.port,
    v: opts.client,
    reqq: opts.reqq,
    yourip: opts.yourIp === undefined ? undefined : compactIp(opts.yourIp),
    ipv6: opts.ipv6 === undefined ? undefined : compactIp(opts.ipv6),
  });
}

/** 4 or 16 bytes of an IP literal; undefined for anything else (a WebRTC peer's "address"). */
function compactIp(host: string): Uint8Array | undefined {
  if (isV4(host)) return Uint8Array.from(host.split('.').map(Number));
  try {
    return host.includes(':') ? ipv6Bytes(host) : undefined;
  } catch {
    return undefined;
  }
}

function ipText(b: unknown, sizes: number[]): string | undefined {
  if (!(b instanceof Uint8Array) || !sizes.includes(b.length)) return undefined;
  return b.length === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : ipv6Text(b);
}

export function decodeExtHandshake(payload: Uint8Array): ExtHandshake {
  const d = decode(payload).value;
  if (!isDict(d)) throw new Error('extension handshake is not a dictionary');
  const m: Record<string, number> = {};
  if (isDict(d.m)) {
    for (const [k, v] of Object.entries(d.m)) if (typeof v === 'number' && v >= 0 && v < 256) m[k] = v;
  }
  const num = (v: unknown) => (typeof v === 'number' && v >= 0 ? v : undefined);
  const out: ExtHandshake = { m, metadataSize: num(d.metadata_size), port: num(d.p), client: text(d.v as Uint8Array), reqq: num(d.reqq) };
  const yourIp = ipText(d.yourip, [4, 16]);
  if (yourIp !== undefined) out.yourIp = yourIp.replace(/^::ffff:/, '');
  const ipv6 = ipText(d.ipv6, [16]);
  if (ipv6 !== undefined) out.ipv6 = ipv6;
  return out;
}

export type MetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Uint8Array }
  | { type: 'reject'; piece: number };

export function encodeMetadata(msg: MetadataMessage): Uint8Array {
  if (msg.type === 'request') return encode({ msg_type: 0, piece: msg.piece });
  if (msg.type === 'reject') return encode({ msg_type: 2, piece: msg.piece });
  const head = encode({ msg_type: 1, piece: msg.piece, total_size: msg.totalSize });
  const out = new Uint8Array(head.length + msg.data.length);
  out.set(head);
  out.set(msg.data, head.length);
  return out;
}

export function decodeMetadata(payload: Uint8Array): MetadataMessage {
  const { value, end } = decode(payload, { allowTrailing: true });
  if (!isDict(value) || typeof value.msg_type !== 'number' || typeof value.piece !== 'number' || value.piece < 0) {
    throw new Error('malformed ut_metadata message');
  }
  const piece = value.piece;
  if (value.msg_type === 0) return { type: 'request', piece };
  if (value.msg_type === 2) return { type: 'reject', piece };
  if (value.msg_type === 1) {
    const totalSize = typeof value.total_size === 'number' ? value.total_size : -1;
    return { type: 'data', piece, totalSize, data: payload.subarray(end) };
  }
  throw new Error(`unknown ut_metadata msg_type ${String(value.msg_type)}`);
}

/** BEP 11 `added.f` bits. */
export const PEX_FLAG = { encryption: 0x01, seed: 0x02, utp: 0x04, holepunch: 0x08, reachable: 0x10 } as const;

/** A peer in a PEX message, with its BEP 11 flags (PEX_FLAG; 0 when the sender gave none). */
export type PexPeer = PeerAddress & { flags?: number };

/** BEP 11 with IPv6 (`added6`, `dropped6`: 18 bytes a peer), as libtorrent and Transmission send it. */
export function encodePex(added: PexPeer[], dropped: PeerAddress[]): Uint8Array {
  const added6 = compact6(added);
  const flags = (list: PexPeer[]) => Uint8Array.from(list, (p) => (p.flags ?? 0) & 0xff);
  const msg: Record<string, Uint8Array> = { added: compactV4(added), 'added.f': flags(added.filter(isV4)), dropped: compactV4(dropped) };
  if (added6.length > 0) Object.assign(msg, { added6, 'added6.f': flags(added.filter(isV6)) });
  const dropped6 = compact6(dropped);
  if (dropped6.length > 0) msg.dropped6 = dropped6;
  return encode(msg);
}

export function decodePex(payload: Uint8Array): { added: PexPeer[]; dropped: PeerAddress[] } {
  const d = decode(payload).value;
  if (!isDict(d)) throw new Error('ut_pex payload is not a dictionary');
  // One message names at most 200 peers each way, whatever the families.
  return { added: [...parseCompact(d, 'added'), ...parseCompact6(d, 'added6')].slice(0, 200), dropped: [...parseCompact(d, 'dropped'), ...parseCompact6(d, 'dropped6')].slice(0, 200) };
}

/** Flags ride along only when the sender's `added.f` has one byte per peer (libtorrent's rule). */
function flagsOf(d: BDict, key: string, count: number): Uint8Array | undefined {
  const f = d[`${key}.f`];
  return f instanceof Uint8Array && f.length === count ? f : undefined;
}

function parseCompact(d: BDict, key: string): PexPeer[] {
  const out: PexPeer[] = [];
  const v4 = d[key];
  if (v4 instanceof Uint8Array) {
    const f = flagsOf(d, key, Math.floor(v4.length / 6));
    for (let i = 0; i + 6 <= v4.length && out.length < 200; i += 6) {
      const port = (v4[i + 4]! << 8) | v4[i + 5]!;
      if (port === 0) continue;
      const p: PexPeer = { host: `${v4[i]}.${v4[i + 1]}.${v4[i + 2]}.${v4[i + 3]}`, port };
      if (f) p.flags = f[i / 6]!;
      out.push(p);
    }
  }
  return out;
}

function parseCompact6(d: BDict, key: string): PexPeer[] {
  const out: PexPeer[] = [];
  const v6 = d[key];
  if (v6 instanceof Uint8Array) {
    const f = flagsOf(d, key, Math.floor(v6.length / 18));
    for (let i = 0; i + 18 <= v6.length && out.length < 200; i += 18) {
      const host = ipv6Text(v6, i);
      const port = (v6[i + 16]! << 8) | v6[i + 17]!;
      if (!(port > 0 && dialable6(host))) continue;
      const p: PexPeer = { host, port };
      if (f) p.flags = f[i / 18]!;
      out.push(p);
    }
  }
  return out;
}

/** An IPv6 address a peer list may name: not unspecified, multicast, link-local (no zone to dial
 *  it on) or IPv4-mapped (the IPv4 list carries those). */
export function dialable6(host: string): boolean {
  return host !== '::' && !/^(ff[0-9a-f]{2}|fe[89ab][0-9a-f]):/i.test(host) && !host.startsWith('::ffff:');
}

const isV4 = (p: PeerAddress | string) => /^\d+\.\d+\.\d+\.\d+$/.test(typeof p === 'string' ? p : p.host);
const isV6 = (p: PeerAddress) => p.host.includes(':');

function compactV4(peers: PeerAddress[]): Uint8Array {
  const v4 = peers.filter(isV4);
  const out = new Uint8Array(v4.length * 6);
  v4.forEach((p, i) => {
    const parts = p.host.split('.').map(Number);
    out.set(parts, i * 6);
    out[i * 6 + 4] = p.port >> 8;
    out[i * 6 + 5] = p.port & 0xff;
  });
  return out;
}

function compact6(peers: PeerAddress[]): Uint8Array {
  const v6 = peers.filter(isV6);
  const out = new Uint8Array(v6.length * 18);
  v6.forEach((p, i) => {
    out.set(ipv6Bytes(p.host), i * 18);
    out[i * 18 + 16] = p.port >> 8;
    out[i * 18 + 17] = p.port & 0xff;
  });
  return out;
}
