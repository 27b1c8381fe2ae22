// Where the session listens when told nothing: '::', which on Linux (and every system Node runs on
// with IPv6) takes IPv6 and IPv4 connections alike — IPv4 ones arrive as ::ffff:a.b.c.d, which the
// TCP transport writes back as a.b.c.d. A machine without IPv6 gets '0.0.0.0', as before.
import type net from 'node:net';
import type { Connection } from '../platform.ts';
import { listenTcp } from './tcp.ts';

export const DUAL_STACK_HOST = '::';

/** The TCP listener on `host`, or on '::' falling back to '0.0.0.0' when `host` is undefined. */
export async function listenPeers(port: number, host: string | undefined, onConnection: (c: Connection) => void): Promise<{ server: net.Server; host: string }> {
  if (host !== undefined) return { server: await listenTcp(port, host, onConnection), host };
  try {
    return { server: await listenTcp(port, DUAL_STACK_HOST, onConnection), host: DUAL_STACK_HOST };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL' && code !== 'EINVAL') throw err;
    return { server: await listenTcp(port, '0.0.0.0', onConnection), host: '0.0.0.0' };
  }
}
