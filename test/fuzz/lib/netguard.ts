// Keeps a fuzzed node on 127.0.0.1. Mutated magnets and bodies can name any tracker, peer or
// .torrent URL; the engine would dial them. Installed in the process that runs the API target,
// this refuses every TCP connection and UDP datagram to a non-loopback destination (before any
// DNS lookup happens) and every name lookup but localhost's, so nothing leaves the machine
// whatever the fuzzer generates.

import net from 'node:net';
import dgram from 'node:dgram';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

let installed = false;
export const blocked = { tcp: 0, udp: 0, dns: 0 };

export function isLoopback(host: unknown): boolean {
  if (host === undefined || host === null || host === '') return true; // Node's default is localhost
  if (typeof host !== 'string') return false;
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/** Name lookups: a mutated URL or tracker names some random host, and asking the system resolver
 *  about it would already reach outside. Only localhost (from /etc/hosts) and IP literals resolve. */
function guardDns(): void {
  const refuse = (host: string) => {
    blocked.dns++;
    return Object.assign(new Error(`fuzz netguard: refused to resolve ${host}`), { code: 'ENOTFOUND', hostname: host });
  };
  const allowed = (host: unknown) => typeof host === 'string' && (net.isIP(host) !== 0 || /^localhost$/i.test(host));
  const lookup = dns.lookup;
  dns.lookup = function (this: unknown, host: string, ...rest: unknown[]) {
    if (allowed(host)) return (lookup as (...a: unknown[]) => void).call(this, host, ...rest);
    const cb = rest[rest.length - 1];
    if (typeof cb === 'function') process.nextTick(() => (cb as (e: Error) => void)(refuse(host)));
  } as typeof dns.lookup;
  const lookupP = dns.promises.lookup;
  dns.promises.lookup = function (this: unknown, host: string, ...rest: unknown[]) {
    if (allowed(host)) return (lookupP as (...a: unknown[]) => Promise<unknown>).call(this, host, ...rest);
    return Promise.reject(refuse(host));
  } as typeof dns.promises.lookup;
  for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveAny'] as const) {
    (dns.promises as unknown as Record<string, unknown>)[name] = (host: string) => Promise.reject(refuse(host));
  }
  // `import { lookup } from 'node:dns/promises'` elsewhere sees the guarded one too.
  syncBuiltinESMExports();
}

export function installNetGuard(): void {
  if (installed) return;
  installed = true;
  guardDns();
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    const opts = (Array.isArray(first) ? first[0] : first) as { host?: unknown; path?: unknown; port?: unknown } | number | string;
    let host: unknown;
    if (typeof opts === 'object' && opts !== null) host = opts.path !== undefined ? 'localhost' : opts.host;
    else if (typeof opts === 'number' || (typeof opts === 'string' && /^\d+$/.test(opts))) host = typeof args[1] === 'string' ? args[1] : undefined;
    else host = 'localhost'; // a pipe path
    if (!isLoopback(host)) {
      blocked.tcp++;
      const err = Object.assign(new Error(`fuzz netguard: refused connection to ${String(host)}`), { code: 'ECONNREFUSED' });
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;

  const send = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    // send(msg, [offset, length,] port, [address], [callback]): the address is the string after the port.
    const strings = args.slice(1).filter((a) => typeof a === 'string');
    const connected = (() => {
      try {
        return this.remoteAddress().address;
      } catch {
        return undefined;
      }
    })();
    const address = strings[0] ?? connected;
    if (!isLoopback(address)) {
      blocked.udp++;
      const cb = args[args.length - 1];
      if (typeof cb === 'function') process.nextTick(() => (cb as (e: Error) => void)(new Error(`fuzz netguard: refused datagram to ${String(address)}`)));
      return;
    }
    return (send as (...a: unknown[]) => void).apply(this, args);
  } as typeof dgram.Socket.prototype.send;
}
