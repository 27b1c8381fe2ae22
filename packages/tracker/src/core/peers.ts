// Address handling shared by the HTTP and UDP front ends.

import { isIP } from 'node:net';
import type { PeerRecord } from '../store/store.ts';

/** Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; peers should see the plain form. */
export function normalizeIp(addr: string): string {
  if (!addr.startsWith('::ffff:') && !addr.startsWith('::FFFF:')) return addr;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  return m ? m[1]! : addr;
}

export function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1';
}

/**
 * The peer's address is the socket's; a claimed `ip` is honoured only from loopback, where a local
 * proxy or test harness legitimately speaks for someone else. Elsewhere it would let anyone
 * point a swarm at a third party.
 */
export function peerHost(socketAddr: string, claimed: string | undefined): string {
  const own = normalizeIp(socketAddr);
  if (claimed && isLoopback(own) && isIP(claimed)) return normalizeIp(claimed);
  return own;
}

/** BEP 23 (6 bytes per IPv4 peer) and BEP 7 (18 bytes per IPv6 peer). */
export function compactPeers(peers: PeerRecord[], family: 4 | 6): Buffer {
  const size = family === 4 ? 6 : 18;
  let n = 0;
  for (const p of peers) if (familyOf(p.host) === family) n++;
  const out = Buffer.allocUnsafe(n * size);
  writeCompactPeers(peers, family, out, 0);
  return out;
}

/** Writes the peers of one family in compact form at `off`; returns the bytes written. Hot path of every announce. */
export function writeCompactPeers(peers: PeerRecord[], family: 4 | 6, out: Buffer, off: number): number {
  const start = off;
  for (const p of peers) {
    if (familyOf(p.host) !== family) continue;
    if (family === 4) {
      if (p.ip4 !== undefined) out.writeUInt32BE(p.ip4, off);
      else writeIpv4(p.host, out, off);
      out.writeUInt16BE(p.port, off + 4);
      off += 6;
    } else {
      ipv6Bytes(p.host).copy(out, off);
      out.writeUInt16BE(p.port, off + 16);
      off += 18;
    }
  }
  return off - start;
}

/** Peer hosts are addresses we produced (socket addresses or validated claims), so a colon means IPv6. */
export function familyOf(host: string): 4 | 6 | 0 {
  if (host === '') return 0;
  return host.includes(':') ? 6 : 4;
}

/** Dotted quad to a 32-bit number; undefined for anything else. */
export function ipv4Number(host: string): number | undefined {
  if (familyOf(host) !== 4) return undefined;
  let n = 0;
  let part = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + part;
      part = 0;
    } else {
      part = part * 10 + (c - 48);
    }
  }
  return n * 256 + part;
}

// Dotted quad to bytes without split/regex: this runs for every peer in every reply.
function writeIpv4(host: string, out: Buffer, off: number): void {
  let part = 0;
  let k = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 46) {
      out[off + k++] = part;
      part = 0;
    } else {
      part = part * 10 + (c - 48);
    }
  }
  out[off + k] = part;
}

function ipv6Bytes(host: string): Buffer {
  const [head = '', tail] = host.split('::');
  const parse = (s: string) => (s ? s.split(':') : []);
  const a = parse(head);
  const b = tail === undefined ? [] : parse(tail);
  const groups = [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}
