// Addresses as 16 bytes (IPv4 mapped into IPv6), the form packed peer records keep.
import { ipv6Text } from '@cascade/engine/ip6';

/**
 * Writes a textual address as 16 bytes at `off` (IPv4 as ::ffff:a.b.c.d). Returns 4 or 6, or 0
 * for anything else (then nothing useful was written). Hosts reaching the store are socket
 * addresses or validated claims, so this only has to be right for valid addresses.
 */
export function parseIp16(host: string, out: Uint8Array, off: number): 0 | 4 | 6 {
  if (host === '') return 0;
  if (!host.includes(':')) {
    for (let i = 0; i < 10; i++) out[off + i] = 0;
    out[off + 10] = out[off + 11] = 0xff;
    let part = 0;
    let k = 12;
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c === 46) {
        out[off + k++] = part;
        part = 0;
      } else part = part * 10 + (c - 48);
    }
    out[off + k] = part;
    return k === 15 ? 4 : 0;
  }
  // IPv6, perhaps with '::' and a dotted IPv4 tail.
  const groups: number[] = [];
  let tail: number[] = [];
  const dbl = host.indexOf('::');
  const parse = (s: string, into: number[]) => {
    if (s === '') return;
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const q = g.split('.').map(Number);
        into.push((q[0]! << 8) | q[1]!, (q[2]! << 8) | q[3]!);
      } else into.push(parseInt(g, 16) || 0);
    }
  };
  if (dbl >= 0) {
    parse(host.slice(0, dbl), groups);
    parse(host.slice(dbl + 2), tail);
  } else {
    parse(host, groups);
    tail = [];
  }
  const all = [...groups, ...Array<number>(Math.max(0, 8 - groups.length - tail.length)).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[off + 2 * i] = (all[i] ?? 0) >>> 8;
    out[off + 2 * i + 1] = all[i] ?? 0;
  }
  return 6;
}

/** Whether the 16 bytes at `off` are an IPv4 address mapped into IPv6 (::ffff:a.b.c.d). */
export function isMapped4(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return b[off + 10] === 0xff && b[off + 11] === 0xff;
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run of two or more zero groups as '::'
 *  (the engine's, which reads compact peers the same way). */
export function formatIpv6(b: Uint8Array, off: number): string {
  return ipv6Text(b, off);
}
