// Reverse proxies the tracker believes about who is calling. Behind an Ingress or nginx every HTTP
// and WebSocket announce arrives from the proxy's address: without this, every peer would be
// recorded at that address and the per-IP rate limit would treat all clients as one.
// Only a connection from a listed proxy has its X-Forwarded-For read, right to left, skipping
// further trusted hops (a chain of proxies); the first untrusted address is the client's. A client
// cannot forge its way past: what it writes at the left of the header is never reached while an
// untrusted hop stands to its right. Without an X-Forwarded-For, the standard Forwarded header's
// `for=` values (RFC 7239) are read the same way.

import { BlockList, isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { normalizeIp } from './peers.ts';

export class TrustedProxies {
  #list = new BlockList();
  #size = 0;
  /** "address:port" of connections this process opened to pass a client's request on. */
  readonly #forwarders = new Set<string>();

  /** `entries`: addresses or CIDR ranges ("10.0.0.0/8", "127.0.0.1", "fd00::/8"). Throws on a bad one. */
  constructor(entries: readonly string[] = []) {
    this.replace(entries);
  }

  get size(): number {
    return this.#size;
  }

  /** Believes these proxies from now on, instead of the ones before (a node's setting changed).
   *  Throws on a bad entry, and then nothing changes. */
  replace(entries: readonly string[]): void {
    const list = new BlockList();
    for (const raw of entries) {
      const e = raw.trim();
      const slash = e.indexOf('/');
      const addr = slash >= 0 ? e.slice(0, slash) : e;
      const family = isIP(addr);
      if (family === 0) throw new RangeError(`trusted proxy "${raw}" is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (slash < 0) {
        list.addAddress(addr, type);
        continue;
      }
      const bits = /^\d{1,3}$/.test(e.slice(slash + 1)) ? Number(e.slice(slash + 1)) : NaN;
      if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) throw new RangeError(`trusted proxy "${raw}" has a bad prefix length`);
      list.addSubnet(addr, bits, type);
    }
    this.#list = list;
    this.#size = entries.length;
  }

  /**
   * Believes the X-Forwarded-For of one connection, named by its source address and port: the node's
   * web port passes WebSocket announces on to this tracker over loopback, and only that very
   * connection is believed, not every local process (nor an unnamed proxy on this machine).
   * Returns the undo, for when the connection closes.
   */
  trustForwarder(address: string, port: number): () => void {
    const key = `${normalizeIp(address)}:${port}`;
    this.#forwarders.add(key);
    return () => this.#forwarders.delete(key);
  }

  trusts(ip: string): boolean {
    const family = isIP(ip);
    return family !== 0 && this.#list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The caller's address: the socket's, or (from a trusted proxy) the nearest untrusted forwarded hop. */
  clientAddress(req: { headers: IncomingMessage['headers']; socket: { remoteAddress?: string | undefined; remotePort?: number | undefined } }): string {
    const own = normalizeIp(req.socket.remoteAddress ?? '');
    const forwarder = this.#forwarders.size > 0 && this.#forwarders.has(`${own}:${req.socket.remotePort}`);
    if (!forwarder && (this.size === 0 || !this.trusts(own))) return own;
    const hops = forwardedHops(req.headers);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeIp(hops[i]!);
      // Garbage in the header ends the walk: the last address we could trust is the proxy itself.
      if (isIP(hop) === 0) return own;
      if (!this.trusts(hop)) return hop;
    }
    return own;
  }
}

/** The forwarded client chain, nearest last: X-Forwarded-For, else Forwarded's for= (RFC 7239). */
export function forwardedHops(headers: IncomingMessage['headers']): string[] {
  const join = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : (h ?? ''));
  const xff = join(headers['x-forwarded-for']);
  if (xff.trim() !== '') return xff.split(',').map((s) => s.trim());
  const fwd = join(headers.forwarded);
  if (fwd.trim() === '') return [];
  return fwd.split(',').map((element) => {
    const pair = element.split(';').map((p) => p.trim()).find((p) => /^for=/i.test(p));
    // An element without for= (or "unknown", an obfuscated name) is garbage: it ends the walk.
    return pair === undefined ? '' : forNode(pair.slice(4));
  });
}

/** A Forwarded node: 1.2.3.4, "1.2.3.4:80", "[2001:db8::1]:443" → the bare address. */
function forNode(v: string): string {
  const bare = v.replace(/^"|"$/g, '');
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (v6) return v6[1]!;
  return /^[\d.]+:\d+$/.test(bare) ? bare.slice(0, bare.lastIndexOf(':')) : bare;
}
