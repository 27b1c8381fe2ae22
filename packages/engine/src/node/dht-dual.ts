// BEP 32 as libtorrent does it: one DHT per address family, on the same UDP port, each with its own
// routing table. A dual-stack session ('::') runs both; a concrete address runs its family's; a
// machine without IPv6 runs the IPv4 one alone. Torrents see one DHT: look-ups and announces go to
// both, nodes to the one of their family.
import type { EngineTally } from '../events/counters.ts';
import type { DhtQueries } from '../discovery/dht-types.ts';
import type { PeerAddress } from '../types.ts';
import type { Dht } from './dht.ts';

export class DualDht {
  readonly v4: Dht | undefined;
  readonly v6: Dht | undefined;

  constructor(v4: Dht | undefined, v6: Dht | undefined) {
    this.v4 = v4;
    this.v6 = v6;
  }

  private get all(): Dht[] {
    return [this.v4, this.v6].filter((d): d is Dht => d !== undefined);
  }

  /** Methods of our own ride the IPv4 instance (the records above the engine name IPv4 hosts). */
  get queries(): DhtQueries | undefined {
    return this.v4?.queries;
  }

  lookup(infoHashHex: string, onPeers: (p: PeerAddress[]) => void, onDone?: () => void): void {
    let left = this.all.length;
    for (const d of this.all) d.lookup(infoHashHex, onPeers, () => --left === 0 && onDone?.());
  }

  /** Resolves once either family took the announce; rejects when both failed. */
  announce(infoHashHex: string, port: number): Promise<void> {
    return Promise.any(this.all.map((d) => d.announce(infoHashHex, port))).then(
      () => undefined,
      (err: AggregateError) => Promise.reject(err.errors[0] as Error),
    );
  }

  addNode(addr: PeerAddress): void {
    for (const d of this.all) d.addNode(addr);
  }

  nodeCount(): number {
    return this.all.reduce((n, d) => n + d.nodeCount(), 0);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((d) => d.close()));
  }
}

/** The session's DHT on `port` (0: any; the IPv6 one then takes the port the IPv4 one got). */
export async function openDht(opts: { bootstrap: string[] | false; host: string; port: number; tally?: EngineTally; socket4?: unknown }): Promise<{ dht: DualDht; port: number }> {
  // Loaded here, not at the top: bittorrent-dht and its dependencies cost some 60 ms of start-up,
  // which a session without the DHT (`--no-dht`, a private torrent's download) never needs.
  const { Dht } = await import('./dht.ts');
  const dual = opts.host === '::';
  const v6Only = !dual && opts.host.includes(':');
  let v4: Dht | undefined;
  let port = opts.port;
  if (!v6Only) {
    v4 = new Dht({ bootstrap: opts.bootstrap, host: dual ? '0.0.0.0' : opts.host, tally: opts.tally, ...(opts.socket4 ? { socket: opts.socket4 } : {}) });
    port = await v4.listen(port).catch(async (err) => {
      await v4!.close();
      throw err;
    });
  }
  let v6: Dht | undefined;
  if (dual || v6Only) {
    v6 = new Dht({ bootstrap: opts.bootstrap, host: opts.host, tally: opts.tally, family: 6 });
    try {
      port = await v6.listen(port);
    } catch (err) {
      await v6.close();
      v6 = undefined;
      // '::' on a machine without IPv6 (or with the port taken on IPv6 only): IPv4 alone, as before.
      if (!dual) throw err;
    }
  }
  return { dht: new DualDht(v4, v6), port };
}
