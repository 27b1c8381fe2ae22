// Reverse proxies the tracker believes about who is calling. Behind an Ingress or nginx every HTTP
// and WebSocket announce arrives from the proxy's address: without this, every peer would be
// recorded at that address and the per-IP rate limit would treat all clients as one.
// Only a connection from a listed proxy has its X-Forwarded-For read, right to left, skipping
// further trusted hops (a chain of proxies); the first untrusted address is the client's. A client
// cannot forge its way past: what it writes at the left of the header is never reached while an
// untrusted hop stands to its right.

import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { normalizeIp } from './peers.ts';

export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  /** `entries`: addresses or CIDR ranges ("10.0.0.0/8", "127.0.0.1", "fd00::/8"). Throws on a bad one. */
  constructor(entries: readonly string[] = []) {
    for (const raw of entries) {
      const e = raw.trim();
      const slash = e.indexOf('/');
      const addr = slash >= 0 ? e.slice(0, slash) : e;
      const family = isIP(addr);
      if (family === 0) throw new RangeError(`trusted proxy "${raw}" is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (slash < 0) {
        this.#list.addAddress(addr, type);
        continue;
      }
      const bits = /^\d{1,3}$/.test(e.slice(slash + 1)) ? Number(e.slice(slash + 1)) : NaN;
      if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) throw new RangeError(`trusted proxy "${raw}" has a bad prefix length`);
      this.#list.addSubnet(addr, bits, type);
    }
    this.size = entries.length;
  }

  trusts(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.#list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The caller's address: the socket's, or (from a trusted proxy) the nearest untrusted forwarded hop. */
  clientAddress(req: Pick<IncomingMessage, 'headers' | 'socket'>): string {
    const own = normalizeIp(req.socket.remoteAddress ?? '');
    if (this.size === 0 || !this.trusts(own)) return own;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeIp(hops[i]!.trim());
      // Garbage in the header ends the walk: the last address we could trust is the proxy itself.
      if (isIP(hop) === 0) return own;
      if (!this.trusts(hop)) return hop;
    }
    return own;
  }
}
