// socket.io across a cluster's members (issue 42 step 4): the Redis adapter joins every member's
// socket.io server, so an event sent to a room or to everyone reaches the sockets connected to the
// other members too (the chat's envelopes and presence). The torrent feed does not go this way: it
// is each member's own view, sent locally (live.ts), so that a page hears each change once.

import type { Server as SocketServer } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';

/** Pub/sub channels' prefix: one cluster per Redis database (another cluster: redis://…/N). */
export const ADAPTER_KEY = 'cascade:socket.io';

export function attachRedisAdapter(io: SocketServer, url: string): { close(): void } {
  // The adapter publishes without waiting or catching: a command must never fail while Redis is
  // away (an unhandled rejection), so commands wait for the reconnect instead (retried forever).
  const options = { lazyConnect: false, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 1000) };
  const pub = new Redis(url, options);
  const sub = new Redis(url, options);
  // Reported by the node's change bus (the same Redis); retried here by ioredis.
  pub.on('error', () => {});
  sub.on('error', () => {});
  io.adapter(createAdapter(pub, sub, { key: ADAPTER_KEY }));
  return {
    close() {
      pub.disconnect();
      sub.disconnect();
    },
  };
}
