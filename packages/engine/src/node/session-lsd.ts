// A session's BEP 14 local service discovery, switched on and off while it runs (the node's `lsd`
// setting): the service (discovery/lsd.ts) and its sockets (lsd-socket.ts), and the hooks every
// torrent of the session reaches through its context.

import { LocalDiscovery, type LsdCounters, type LsdTorrent } from '../discovery/lsd.ts';
import { openLsdSockets } from './lsd-socket.ts';
import type { LocalDiscoveryStatus } from '../api.ts';

export interface SessionLsdEnv {
  host: string | undefined;
  /** The TCP listen port (what peers on the LAN dial). */
  port(): number;
  find(hex: string): LsdTorrent | undefined;
  torrents(): Iterable<LsdTorrent>;
}

export class SessionLsd {
  readonly counters: LsdCounters = { lsdSent: 0, lsdReceived: 0, lsdDropped: 0, lsdPeers: 0, lsdPeerHosts: [], lsdPeersByHost: new Map() };
  private service: LocalDiscovery | undefined;
  private state: LocalDiscoveryStatus = { enabled: false, families: [], error: null };
  private switching: Promise<void> = Promise.resolve();
  private readonly env: SessionLsdEnv;
  /** What torrents call (TorrentContext.lsd): nothing while LSD is off. */
  readonly hooks = {
    join: (t: LsdTorrent) => this.service?.join(t),
    leave: (t: LsdTorrent) => this.service?.leave(t),
    enabled: () => this.service !== undefined,
  };

  constructor(env: SessionLsdEnv) {
    this.env = env;
  }

  status(): LocalDiscoveryStatus {
    return { ...this.state, families: [...this.state.families] };
  }

  /** On: sockets opened, every running torrent announced. Off: sockets closed. Calls take turns. */
  set(on: boolean, opts: { intervalMs?: number | undefined } = {}): Promise<void> {
    this.switching = this.switching.then(async () => {
      this.stop();
      if (on) await this.start(opts.intervalMs);
    });
    return this.switching;
  }

  private async start(intervalMs: number | undefined): Promise<void> {
    const service = new LocalDiscovery({ port: this.env.port, find: this.env.find, counters: this.counters, ...(intervalMs ? { intervalMs } : {}) });
    const sockets = await openLsdSockets({ host: this.env.host, onMessage: (data, from) => service.receive(data, from) });
    if (sockets.families.length === 0) {
      sockets.close();
      this.state = { enabled: false, families: [], error: `no socket for local service discovery (${sockets.errors.join('; ') || 'none opened'})` };
      return;
    }
    service.attach(sockets);
    this.service = service;
    this.state = { enabled: true, families: [...sockets.families], error: sockets.errors.length ? sockets.errors.join('; ') : null };
    for (const t of this.env.torrents()) if (t.lsdAllowed()) service.join(t);
  }

  private stop(): void {
    this.service?.close();
    this.service = undefined;
    this.state = { enabled: false, families: [], error: null };
  }

  close(): Promise<void> {
    return this.set(false);
  }
}
