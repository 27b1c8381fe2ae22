// BEP 32 as libtorrent does it: one DHT per address family, on the same UDP port, each with its own
// routing table. A dual-stack session ('::') runs both; a concrete address runs its family's; a
// machine without IPv6 runs the IPv4 one alone. Torrents see one DHT: look-ups and announces go to
// both, nodes to the one of their family.
import { isIP } from 'node:net';
import type { EngineTally } from '../events/counters.ts';
import type { DhtContact, DhtQueries, DhtQueryHandler, DhtQueryReply } from '../discovery/dht-types.ts';
import type { PeerAddress } from '../types.ts';
import type { Dht } from './dht.ts';
import { WantFiller } from './dht-want.ts';

export class DualDht {
  readonly v4: Dht | undefined;
  readonly v6: Dht | undefined;

  readonly queries: DhtQueries | undefined;
  private readonly filler = new WantFiller();

  constructor(v4: Dht | undefined, v6: Dht | undefined) {
    this.v4 = v4;
    this.v6 = v6;
    if (v4 && v6) {
      v4.other = v6;
      v6.other = v4;
    }
    // Methods of our own ride both families (records published on each, found from either).
    const q4 = v4?.queries;
    const q6 = v6?.queries;
    this.queries = q4 && q6 ? new DualQueries(q4, q6, () => this.fill()) : (q4 ?? q6);
    this.fill(true);
  }

  private get all(): Dht[] {
    return [this.v4, this.v6].filter((d): d is Dht => d !== undefined);
  }

  /** BEP 32 `want`: a family with (nearly) no nodes asks the other family's nodes for some
   *  (dht-want.ts), at start and then before look-ups, at most every few seconds. */
  private fill(force = false): void {
    if (!this.v4 || !this.v6) return;
    this.filler.fill(this.v6, this.v4, force);
    this.filler.fill(this.v4, this.v6, force);
  }

  lookup(infoHashHex: string, onPeers: (p: PeerAddress[]) => void, onDone?: () => void): void {
    this.fill();
    let left = this.all.length;
    for (const d of this.all) d.lookup(infoHashHex, onPeers, () => --left === 0 && onDone?.());
  }

  /** Resolves once either family took the announce; rejects when both failed. */
  announce(infoHashHex: string, port: number): Promise<void> {
    this.fill();
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

/** Our KRPC methods on both families: answered on each, walks on both (the closest nodes of each
 *  family: a record is written to both, so a reader of either finds it), sends by the contact's family. */
class DualQueries implements DhtQueries {
  private readonly q4: DhtQueries;
  private readonly q6: DhtQueries;
  private readonly beforeWalk: () => void;

  constructor(q4: DhtQueries, q6: DhtQueries, beforeWalk: () => void) {
    this.q4 = q4;
    this.q6 = q6;
    this.beforeWalk = beforeWalk;
  }

  get nodeId(): Uint8Array {
    return this.q4.nodeId;
  }

  handle(method: string, handler: DhtQueryHandler, opts?: { write?: boolean }): void {
    this.q4.handle(method, handler, opts);
    this.q6.handle(method, handler, opts);
  }

  async walk(target: Uint8Array, method: string, args: Record<string, unknown>, onReply?: (reply: DhtQueryReply) => void, signal?: AbortSignal): Promise<DhtContact[]> {
    this.beforeWalk();
    const [c4, c6] = await Promise.all([this.q4.walk(target, method, args, onReply, signal), this.q6.walk(target, method, args, onReply, signal)]);
    return [...c4, ...c6];
  }

  async send(contacts: DhtContact[], method: string, args: Record<string, unknown>, onReply?: (reply: DhtQueryReply) => void): Promise<{ accepted: number; errors: string[] }> {
    const six = contacts.filter((c) => isIP(c.host) === 6);
    const four = contacts.filter((c) => isIP(c.host) !== 6);
    const [a, b] = await Promise.all([this.q4.send(four, method, args, onReply), this.q6.send(six, method, args, onReply)]);
    return { accepted: a.accepted + b.accepted, errors: [...a.errors, ...b.errors] };
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
