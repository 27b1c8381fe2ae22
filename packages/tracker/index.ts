// @cascade/tracker: an in-memory BitTorrent tracker speaking HTTP and UDP.

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createHttpServer } from './src/http.ts';
import { MemoryStore } from './src/store.ts';
import { createUdpServer } from './src/udp.ts';

export type { SwarmStore, SwarmCounts, PeerRecord, AnnounceInput } from './src/store.ts';
export { MemoryStore } from './src/store.ts';

export interface TrackerOptions {
  /** Bind address for both servers. Default 0.0.0.0. */
  host?: string;
  /** 0 (default) picks a free port. */
  httpPort?: number;
  udpPort?: number;
  /** Seconds between announces we ask clients for. Default 1800. */
  interval?: number;
}

export interface RunningTracker {
  httpAnnounceUrl: string;
  udpAnnounceUrl: string;
  httpPort: number;
  udpPort: number;
  close(): Promise<void>;
  swarm(infoHashHex: string): { complete: number; incomplete: number };
}

export async function startTracker(opts: TrackerOptions = {}): Promise<RunningTracker> {
  const host = opts.host ?? '0.0.0.0';
  const interval = opts.interval ?? 1800;
  // A peer that missed two announces (plus slack for slow clients) is gone.
  const store = new MemoryStore((interval * 2 + 60) * 1000);

  const httpServer = createHttpServer({ store, interval });
  const udp = createUdpServer({ store, interval, host });
  try {
    httpServer.listen(opts.httpPort ?? 0, host);
    await once(httpServer, 'listening');
    udp.bind(opts.udpPort ?? 0, host);
    await once(udp, 'listening');
  } catch (err) {
    httpServer.close();
    udp.close();
    store.close();
    throw err;
  }

  const httpPort = (httpServer.address() as AddressInfo).port;
  const udpPort = udp.address().port;
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;

  return {
    httpAnnounceUrl: `http://${urlHost}:${httpPort}/announce`,
    udpAnnounceUrl: `udp://${urlHost}:${udpPort}/announce`,
    httpPort,
    udpPort,
    swarm: (infoHashHex) => {
      const { complete, incomplete } = store.counts(infoHashHex.toLowerCase());
      return { complete, incomplete };
    },
    close: async () => {
      httpServer.closeAllConnections();
      await Promise.all([
        new Promise<void>((r) => httpServer.close(() => r())),
        new Promise<void>((r) => udp.close(() => r())),
      ]);
      store.close();
    },
  };
}
