// BEP 55 ut_holepunch payloads: msg_type (1 byte), addr_type (1 byte: 0 IPv4, 1 IPv6), the
// address (4 or 16 bytes), the port (2 bytes) and err_code (4 bytes, 0 outside error messages),
// all big-endian. libtorrent 2.0 leaves err_code off rendezvous and connect messages: it is read
// as 0 when absent. Decoding never throws: a malformed payload is `undefined`, which the caller
// ignores (libtorrent does the same).

import { ipv6Bytes, ipv6Text } from '../encoding/ip6.ts';
import type { PeerAddress } from '../types.ts';

export const HP_RENDEZVOUS = 0;
export const HP_CONNECT = 1;
export const HP_ERROR = 2;

/** BEP 55 error codes. */
export const HP_ERR = { noSuchPeer: 1, notConnected: 2, noSupport: 3, noSelf: 4 } as const;
export const HP_ERR_NAMES: Record<number, string> = { 1: 'no such peer', 2: 'not connected', 3: 'no support', 4: 'no self' };

export interface HolepunchMessage {
  type: typeof HP_RENDEZVOUS | typeof HP_CONNECT | typeof HP_ERROR;
  addr: PeerAddress;
  /** 0 except in error messages. */
  error: number;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** Throws on an address that is neither IPv4 nor IPv6 text (a WebRTC peer's "address"). */
export function encodeHolepunch(msg: HolepunchMessage): Uint8Array {
  const host = msg.addr.host.replace(/^\[|\]$/g, '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const v4 = V4.exec(host);
  const ip = v4 ? Uint8Array.from(v4.slice(1, 5).map(Number)) : ipv6Bytes(host);
  if (v4 && ip.some((x, i) => x !== Number(v4[i + 1]))) throw new Error(`not an IPv4 address: ${host}`);
  const out = new Uint8Array(2 + ip.length + 2 + 4);
  const dv = new DataView(out.buffer);
  out[0] = msg.type;
  out[1] = v4 ? 0 : 1;
  out.set(ip, 2);
  dv.setUint16(2 + ip.length, msg.addr.port);
  dv.setUint32(4 + ip.length, msg.error >>> 0);
  return out;
}

export function decodeHolepunch(b: Uint8Array): HolepunchMessage | undefined {
  if (b.length < 2) return undefined;
  const type = b[0]!;
  const family = b[1]!;
  if (type > HP_ERROR || family > 1) return undefined;
  const n = family === 0 ? 4 : 16;
  if (b.length < 2 + n + 2) return undefined;
  // An IPv4-mapped IPv6 address names the IPv4 peer: our keys write those as a.b.c.d.
  const host = family === 0 ? `${b[2]}.${b[3]}.${b[4]}.${b[5]}` : ipv6Text(b, 2).replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const port = (b[2 + n]! << 8) | b[3 + n]!;
  const at = 4 + n;
  const error = b.length >= at + 4 ? new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0) : 0;
  // An error message without its code says nothing useful; libtorrent drops it too.
  if (type === HP_ERROR && b.length < at + 4) return undefined;
  return { type: type as HolepunchMessage['type'], addr: { host, port }, error };
}
