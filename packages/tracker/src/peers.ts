// Address handling shared by the HTTP and UDP front ends.

import { isIP } from 'node:net';
import type { PeerRecord } from './store.ts';

/** Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; peers should see the plain form. */
export function normalizeIp(addr: string): string {
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
  const fit = peers.filter((p) => isIP(p.host) === family);
  const out = Buffer.alloc(fit.length * size);
  fit.forEach((p, i) => {
    const off = i * size;
    if (family === 4) p.host.split('.').forEach((x, k) => (out[off + k] = Number(x)));
    else ipv6Bytes(p.host).copy(out, off);
    out.writeUInt16BE(p.port, off + size - 2);
  });
  return out;
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
