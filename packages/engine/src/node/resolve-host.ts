// Tracker names to addresses, every one with its family (SessionOptions.resolve, the system's by
// default): what the UDP tracker client and the per-family announces (tracker-families.ts) share.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** A tracker name's addresses (SessionOptions.resolve: tests give `localhost` both loopbacks). */
export type Resolve = (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export const systemResolve: Resolve = async (host) => (await lookup(host, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** The addresses of `host` through `resolve`, an IP literal standing for itself. */
export function resolveHost(resolve: Resolve, host: string): ReturnType<Resolve> {
  const h = host.replace(/^\[|\]$/g, '');
  const f = isIP(h);
  return f ? Promise.resolve([{ address: h, family: f === 6 ? 6 : 4 }]) : resolve(h);
}
