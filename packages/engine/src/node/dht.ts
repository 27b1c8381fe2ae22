// Mainline DHT (BEP 5) through bittorrent-dht. The wrapper exists mainly to pin down bootstrapping:
// bittorrent-dht silently falls back to the public routers when `bootstrap` is omitted, and
// Cascade must only ever reach them when the caller asks for them by name.

import DHT from 'bittorrent-dht';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { PeerAddress } from '../types.ts';
import { countDhtQuery, type EngineTally } from '../events/counters.ts';
import { DhtCustomQueries, type KrpcInternals } from './dht-queries.ts';
import { answerWant, type Family, type WantNode, type WantSide } from './dht-want.ts';
import type { DhtQueries } from '../discovery/dht-types.ts';
import { Dht6Socket } from './dht6-socket.ts';

export type { DhtQueries, DhtQueryHandler, DhtQueryReply, DhtQueryError } from '../discovery/dht-types.ts';

export interface DhtOptions {
  /** Nodes to join through ("host:port"); false or [] starts a network of our own. */
  bootstrap: string[] | false;
  /** Address to bind to; a concrete one is also what we announce for ourselves. Default 0.0.0.0. */
  host?: string;
  /** Where queries in and out are counted (by KRPC method). */
  tally?: EngineTally;
  /** 6: the BEP 32 instance, on a udp6 socket (dht6-socket.ts); its bootstrap keeps IPv6 nodes
   *  (literals, and names through their AAAA records). Default 4. */
  family?: 4 | 6;
  /** IPv4 only: a UDP socket shared with uTP (utp-socket.ts's dhtSocket()), already bound. */
  socket?: unknown;
}

/** The part of k-rpc-socket (inside bittorrent-dht, not its public API) that queries pass through. */
interface KrpcSocket {
  on(event: 'query', fn: (query: { q?: unknown }) => void): void;
  send(peer: unknown, message: { y?: unknown; q?: unknown }, cb?: unknown): void;
}

type PeerListener = (p: PeerAddress[]) => void;

/** How long a peer announced to this node is given out. BEP 5 sets no age; torrents announce every
 *  5 minutes here (scheduler.ts), 15-30 elsewhere, and jech's dht (Transmission's) forgets a peer
 *  after 32. bittorrent-dht's default (0) kept every peer announced until 10,000 were stored: a
 *  node up for weeks kept the peers of every torrent ever announced to it (issue 63). */
export const PEER_MAX_AGE_MS = 30 * 60_000;

/** `bytes` in an ArrayBuffer of their own. A small Buffer is a slice of Node's 64 KiB pool
 *  (bittorrent-dht's peer records, Buffer.from(hex)): one kept for long keeps its whole slab. */
function unpooled(bytes: Uint8Array): Buffer {
  const own = new Uint8Array(bytes);
  return Buffer.from(own.buffer, 0, own.byteLength);
}

export class Dht implements WantSide {
  private readonly dht: DHT;
  private readonly rpc: KrpcInternals | undefined;
  /** BEP 32: this instance's family as `want` names it. */
  readonly family: Family;
  readonly bootstrapNodes: PeerAddress[];
  /** The dual-stack session's instance of the other family, whose nodes answer a `want` for it. */
  other: WantSide | undefined;
  private readonly host: string;
  /** The IPv6 instance's socket (handles for its addresses); undefined for IPv4. */
  private readonly socket6: Dht6Socket | undefined;
  private readonly listeners = new Map<string, Set<PeerListener>>();
  private readonly aborts = new Set<() => void>();
  /** Queries of methods BEP 5/44 do not define, for layers above the engine (see dht-queries.ts). */
  readonly queries: DhtQueries | undefined;

  constructor(opts: DhtOptions) {
    const v6 = opts.family === 6;
    const wildcard = !opts.host || opts.host === '0.0.0.0' || opts.host === '::';
    // The IPv4 instance of a dual-stack session ('::') binds every IPv4 address.
    this.host = wildcard ? (v6 ? '::' : '0.0.0.0') : opts.host!;
    this.socket6 = v6 ? new Dht6Socket() : undefined;
    const nodes = opts.bootstrap === false ? [] : opts.bootstrap.map(toNode);
    this.family = v6 ? 'n6' : 'n4';
    // Names too for IPv4 (its udp4 socket resolves them: the public routers); IPv6 literals for IPv6.
    this.bootstrapNodes = nodes.filter((n) => (v6 ? isIP(n.host) === 6 : isIP(n.host) !== 6));
    const s6 = this.socket6;
    this.dht = new DHT({
      // Always explicit: `undefined` here would mean router.bittorrent.com and friends.
      // Each instance its own family's (a name: the IPv4 one resolves it, the IPv6 one below): an
      // IPv6 node asked over the IPv4 socket never answers, and held every walk for seconds.
      bootstrap: opts.bootstrap === false ? false : s6 ? nodes.filter((n) => isIP(n.host) === 6).map((n) => ({ host: s6.handles.handle(n.host), port: n.port })) : nodes.filter((n) => isIP(n.host) !== 6),
      host: wildcard || v6 ? false : this.host,
      maxAge: PEER_MAX_AGE_MS,
      ...(s6 ? { socket: s6 } : opts.socket ? { socket: opts.socket } : {}),
    } as ConstructorParameters<typeof DHT>[0]);
    // Names among the IPv6 instance's bootstrap nodes: their AAAA records, added once resolved.
    if (s6) for (const n of nodes.filter((n) => isIP(n.host) === 0)) void dnsLookup(n.host, { family: 6 }).then((a) => this.addNode({ host: a.address, port: n.port }), () => {});
    // Without listeners EventEmitter would throw on these and take the process down.
    this.dht.on('error', () => {});
    this.dht.on('warning', () => {});
    if (opts.tally) countQueries(this.dht, opts.tally);
    // The peers announced to us are kept for PEER_MAX_AGE_MS: each as a copy of its own 6 bytes,
    // not a slice of the pool (soak: 518 records kept 85 slabs, 5.5 MB, alive).
    const peers = (this.dht as unknown as { _peers?: { add?: (name: string, record: unknown, value?: unknown) => void } })._peers;
    if (peers && typeof peers.add === 'function') {
      const add = peers.add.bind(peers);
      peers.add = (name, record, value) => add(name, record instanceof Uint8Array ? unpooled(record) : record, value);
    }
    const rpc = (this.dht as unknown as { _rpc?: KrpcInternals })._rpc;
    const usable = rpc && typeof rpc.closest === 'function' && typeof rpc.query === 'function' && typeof rpc.response === 'function';
    this.rpc = usable ? rpc : undefined;
    this.queries = usable ? new DhtCustomQueries(rpc, s6 ? { real: (h) => s6.handles.address(h), wire: (h) => s6.handles.handle(h) } : undefined) : undefined;
    if (usable) {
      // Every answer (bittorrent-dht's and ours) passes here: BEP 32's `want` (dht-want.ts).
      const respond = rpc.response.bind(rpc);
      rpc.response = (peer, query, r, nodes, cb?: unknown) => {
        if (typeof nodes === 'function') return respond(peer, query, r, nodes as never);
        const keep = answerWant(this.family, query, r, nodes, this.other);
        (respond as (...a: unknown[]) => void)(peer, query, r, keep ?? undefined, cb);
      };
    }
    this.dht.on('peer', (peer: PeerAddress, infoHash: Uint8Array) => {
      const set = this.listeners.get(Buffer.from(infoHash).toString('hex'));
      if (!set) return;
      const host = s6 ? s6.handles.address(peer.host) : peer.host;
      if (!host) return;
      for (const fn of set) {
        try {
          fn([{ host, port: peer.port }]);
        } catch {
          // One consumer's bug must not stop the others hearing about peers.
        }
      }
    });
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      // k-rpc-socket passes most bind errors (EADDRNOTAVAIL, EINVAL, EAFNOSUPPORT) on as warnings:
      // without this the listen would wait for ever.
      const onError = (err: Error) => {
        this.dht.off('error', onError).off('warning', onWarning);
        reject(err);
      };
      const onWarning = (err: Error & { syscall?: string }) => err.syscall === 'bind' && onError(err);
      this.dht.on('error', onError).on('warning', onWarning);
      this.dht.listen(port, this.host, () => {
        this.dht.off('error', onError).off('warning', onWarning);
        resolve(this.dht.address().port);
      });
    });
  }

  /** Starts a get_peers walk; onPeers may fire many times until the walk ends (then onDone). */
  lookup(infoHashHex: string, onPeers: PeerListener, onDone?: () => void): void {
    const key = infoHashHex.toLowerCase();
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(onPeers);
    const done = () => {
      this.aborts.delete(abort);
      // Deferred: bittorrent-dht emits the peers it already holds on the next tick, even for quick walks.
      setImmediate(() => {
        set.delete(onPeers);
        if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
        onDone?.();
      });
    };
    // Its own bytes: bittorrent-dht keeps the walk's table (up to 1,000 of them) with the target in it.
    const abort = this.dht.lookup(unpooled(Buffer.from(key, 'hex')), done);
    this.aborts.add(abort);
  }

  announce(infoHashHex: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // Its own bytes, as lookup's: an announce without a table walks first, keeping this as its target.
      this.dht.announce(unpooled(Buffer.from(infoHashHex, 'hex')), port, (err) => (err ? reject(err) : resolve()));
    });
  }

  addNode(addr: PeerAddress): void {
    const host = addr.host.replace(/^\[|\]$/g, '');
    // Each instance takes nodes of its own family.
    if (this.socket6) {
      if (isIP(host) === 6) this.dht.addNode({ host: this.socket6.handles.handle(host), port: addr.port });
    } else if (isIP(host) !== 6) this.dht.addNode({ host, port: addr.port });
  }

  nodeCount(): number {
    return this.dht.nodes.count();
  }

  get nodeId(): Uint8Array {
    return this.dht.nodeId;
  }

  /** The `n` nodes of this table closest to `target`, at their real addresses. */
  closest(target: Uint8Array, n: number): WantNode[] {
    if (!this.rpc) return [];
    const out: WantNode[] = [];
    for (const node of this.rpc.nodes.closest(Buffer.from(target), n) as { id?: Uint8Array; host?: string; port?: number }[]) {
      const host = node.host && this.socket6 ? this.socket6.handles.address(node.host) : node.host;
      if (host && node.id && node.port) out.push({ id: node.id, host, port: node.port });
    }
    return out;
  }

  /** One query to the node at `addr` (a real address of this family); the reply's `r`, or undefined. */
  ask(addr: PeerAddress, q: string, a: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const rpc = this.rpc;
    if (!rpc) return Promise.resolve(undefined);
    const host = this.socket6 ? this.socket6.handles.handle(addr.host) : addr.host;
    return new Promise((resolve) => rpc.query({ host, port: addr.port }, { q, a }, (err, res) => resolve(err ? undefined : res?.r)));
  }

  close(): Promise<void> {
    (this.queries as DhtCustomQueries | undefined)?.close();
    for (const abort of this.aborts) abort();
    this.aborts.clear();
    this.listeners.clear();
    return new Promise((resolve) => this.dht.destroy(() => resolve()));
  }
}

/**
 * Counts KRPC queries received and sent. bittorrent-dht has no event for either, so this hooks the
 * socket object under it (k-rpc-socket): every message goes out through its send(), every query
 * received is its 'query' event. Without that object (another version) nothing is counted.
 */
function countQueries(dht: DHT, tally: EngineTally): void {
  const socket = (dht as unknown as { _rpc?: { socket?: KrpcSocket } })._rpc?.socket;
  if (!socket || typeof socket.send !== 'function' || typeof socket.on !== 'function') return;
  const name = (q: unknown) => (q instanceof Uint8Array ? Buffer.from(q).toString() : q);
  socket.on('query', (query) => countDhtQuery(tally.dhtQueriesIn, name(query?.q)));
  const send = socket.send.bind(socket);
  socket.send = (peer, message, cb) => {
    // Responses and errors go out here too ('r', 'e'); only queries count.
    const y = name(message?.y);
    if (y === 'q') countDhtQuery(tally.dhtQueriesOut, name(message.q));
    send(peer, message, cb);
  };
}

function toNode(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  const port = Number(s.slice(i + 1));
  if (i < 0 || !(port > 0 && port < 65536)) throw new Error(`invalid DHT bootstrap node "${s}" (want host:port)`);
  return { host: s.slice(0, i).replace(/^\[|\]$/g, ''), port };
}
