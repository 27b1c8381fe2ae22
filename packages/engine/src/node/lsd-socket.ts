// The sockets of BEP 14 local service discovery (the service itself is discovery/lsd.ts): one UDP
// socket per family on port 6771, shared with other clients on this machine (SO_REUSEADDR), joined
// to the group. Multicast keeps the kernel's TTL of 1 (hop limit 1 for IPv6): it never crosses a
// router.

import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { LSD_GROUP4, LSD_GROUP6, LSD_PORT, type LsdTransport } from '../discovery/lsd.ts';

export interface LsdSocketOptions {
  /** The session's concrete --host: its family only, and its interface for the group. */
  host?: string | undefined;
  onMessage(data: Uint8Array, from: string): void;
}

/** Opens what it can: a family whose socket fails (no IPv6, no route for multicast) is left out;
 *  `errors` says why. A loopback --host gets none (there is no LAN behind it). */
export async function openLsdSockets(opts: LsdSocketOptions): Promise<LsdTransport & { errors: string[] }> {
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : undefined;
  const port = LSD_PORT;
  const errors: string[] = [];
  const sockets = new Map<4 | 6, dgram.Socket>();
  const wanted: (4 | 6)[] = host ? [isIP(host) === 6 ? 6 : 4] : [4, 6];
  if (host && /^(127\.|::1$|::ffff:127\.)/.test(host)) return { families: [], errors: ['bound to loopback'], send() {}, close() {} };
  for (const family of wanted) {
    try {
      sockets.set(family, await open(family, port, host, opts.onMessage));
    } catch (err) {
      errors.push(`IPv${family}: ${(err as Error).message}`);
    }
  }
  return {
    families: [...sockets.keys()],
    errors,
    send(family, message) {
      const s = sockets.get(family);
      // A LAN without a route for multicast answers ENETUNREACH: nothing to do about it here.
      s?.send(message, port, family === 4 ? LSD_GROUP4 : LSD_GROUP6, () => {});
    },
    close() {
      for (const s of sockets.values()) {
        try {
          s.close();
        } catch {
          // already closed
        }
      }
      sockets.clear();
    },
  };
}

async function open(family: 4 | 6, port: number, host: string | undefined, onMessage: LsdSocketOptions['onMessage']): Promise<dgram.Socket> {
  const group = family === 4 ? LSD_GROUP4 : LSD_GROUP6;
  // IPv4: bound to the group itself where the system allows it (Linux does), so that only datagrams
  // sent to the group arrive, none unicast to this host's port 6771 from further away.
  const socket = family === 4 ? await bound('udp4', port, group).catch(() => bound('udp4', port, '0.0.0.0')) : await bound('udp6', port, '::');
  try {
    socket.addMembership(group, host);
    if (host) socket.setMulticastInterface(host);
  } catch (err) {
    socket.close();
    throw err;
  }
  // Errors after the start (an interface gone) must not end the process.
  socket.on('error', () => {});
  socket.on('message', (msg, rinfo) => {
    try {
      onMessage(msg, rinfo.address);
    } catch {
      // The service never throws; a bug there must still not take the socket down.
    }
  });
  return socket;
}

function bound(type: 'udp4' | 'udp6', port: number, address: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type, reuseAddr: true });
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', fail);
    socket.bind({ port, address, exclusive: false }, () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
