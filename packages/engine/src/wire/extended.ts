// BEP 10 extension handshake, BEP 9 ut_metadata and BEP 11 ut_pex payloads.

import { decode, encode, isDict, text, type BDict } from '../bencode.ts';
import type { PeerAddress } from '../types.ts';

/** Our local ids for the extensions we speak; peers tell us theirs in their handshake. */
export const LOCAL_EXT = { ut_metadata: 1, ut_pex: 2 } as const;
export const METADATA_PIECE = 16 * 1024;
export const MAX_METADATA_SIZE = 32 * 1024 * 1024;

export interface ExtHandshake {
  m: Record<string, number>;
  metadataSize?: number;
  port?: number;
  client?: string;
  reqq?: number;
}

/** Local id of a registered extension: after ours, in registration order. */
export function extensionLocalId(index: number): number {
  return 3 + index;
}

export function encodeExtHandshake(opts: { metadataSize?: number; port?: number; client: string; reqq: number; extensions?: string[] }): Uint8Array {
  const m: Record<string, number> = { ...LOCAL_EXT };
  (opts.extensions ?? []).forEach((name, i) => (m[name] = extensionLocalId(i)));
  return encode({
    m,
    metadata_size: opts.metadataSize,
    p: opts.port,
    v: opts.client,
    reqq: opts.reqq,
  });
}

export function decodeExtHandshake(payload: Uint8Array): ExtHandshake {
  const d = decode(payload).value;
  if (!isDict(d)) throw new Error('extension handshake is not a dictionary');
  const m: Record<string, number> = {};
  if (isDict(d.m)) {
    for (const [k, v] of Object.entries(d.m)) if (typeof v === 'number' && v >= 0 && v < 256) m[k] = v;
  }
  const num = (v: unknown) => (typeof v === 'number' && v >= 0 ? v : undefined);
  return { m, metadataSize: num(d.metadata_size), port: num(d.p), client: text(d.v as Uint8Array), reqq: num(d.reqq) };
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

export function encodePex(added: PeerAddress[], dropped: PeerAddress[]): Uint8Array {
  return encode({ added: compactV4(added), 'added.f': new Uint8Array(added.filter(isV4).length), dropped: compactV4(dropped) });
}

export function decodePex(payload: Uint8Array): { added: PeerAddress[]; dropped: PeerAddress[] } {
  const d = decode(payload).value;
  if (!isDict(d)) throw new Error('ut_pex payload is not a dictionary');
  return { added: parseCompact(d, 'added'), dropped: parseCompact(d, 'dropped') };
}

function parseCompact(d: BDict, key: string): PeerAddress[] {
  const out: PeerAddress[] = [];
  const v4 = d[key];
  if (v4 instanceof Uint8Array) {
    for (let i = 0; i + 6 <= v4.length && out.length < 200; i += 6) {
      out.push({ host: `${v4[i]}.${v4[i + 1]}.${v4[i + 2]}.${v4[i + 3]}`, port: (v4[i + 4]! << 8) | v4[i + 5]! });
    }
  }
  return out.filter((p) => p.port > 0);
}

const isV4 = (p: PeerAddress) => /^\d+\.\d+\.\d+\.\d+$/.test(p.host);

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
