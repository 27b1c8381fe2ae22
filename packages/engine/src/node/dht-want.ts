// BEP 32's `want` between the two DHTs of a dual-stack session, as libtorrent does it. Answering: a
// query whose `a.want` lists "n4" and/or "n6" gets `nodes` and/or `nodes6`, each from the table of
// its family, whichever socket it came in on (and only those: libtorrent's write_nodes_entries);
// without `want`, nodes of the socket's own family, as before. Asking: libtorrent's nodes put their
// family in `want` when they query a node of the other family (its routers, at bootstrap); ours do
// the same when one table is (nearly) empty — a session given IPv4 bootstrap nodes only fills its
// IPv6 table from their `nodes6`, and the other way round.
import { ipv6Bytes, ipv6Text } from '../encoding/ip6.ts';
import { concatBytes } from '../encoding/hex.ts';
import type { PeerAddress } from '../types.ts';
import { isHandle, usable } from './dht6-socket.ts';

export type Family = 'n4' | 'n6';

/** A node of one table, at its real address. */
export interface WantNode {
  id: Uint8Array;
  host: string;
  port: number;
}

/** What the want logic needs of one DHT instance (dht.ts's Dht). */
export interface WantSide {
  readonly family: Family;
  readonly nodeId: Uint8Array;
  closest(target: Uint8Array, n: number): WantNode[];
  ask(node: PeerAddress, q: string, a: Record<string, unknown>): Promise<Record<string, unknown> | undefined>;
  addNode(addr: PeerAddress): void;
  nodeCount(): number;
  /** The bootstrap nodes it was given (host:port). */
  readonly bootstrapNodes: PeerAddress[];
}

/** Nodes of the other family in one answer (BEP 5's k). */
const K = 8;
/** Nodes taken from one received `nodes`/`nodes6` (a hostile answer may carry a datagram's worth). */
const MAX_TAKEN = 16;
/** A table below this many nodes asks the other family's nodes for more. */
export const FILL_BELOW = 8;
/** At most one fill per direction in this long. */
const FILL_EVERY_MS = 10_000;

/** The families a query's `a.want` names; undefined when `want` is absent or not a list (then a
 *  node answers with its own family). Unknown entries are ignored, as libtorrent does. */
export function wantOf(a: unknown): Set<Family> | undefined {
  const want = a && typeof a === 'object' ? (a as { want?: unknown }).want : undefined;
  if (!Array.isArray(want)) return undefined;
  const out = new Set<Family>();
  for (const w of want.slice(0, 8)) {
    const s = w instanceof Uint8Array ? Buffer.from(w).toString('latin1') : w;
    if (s === 'n4' || s === 'n6') out.add(s);
  }
  return out;
}

/** The 20-byte target of a query (find_node, get, our methods) or its info_hash (get_peers). */
export function targetOf(a: unknown): Uint8Array | undefined {
  if (!a || typeof a !== 'object') return undefined;
  const { target, info_hash } = a as { target?: unknown; info_hash?: unknown };
  if (target instanceof Uint8Array && target.length === 20) return target;
  if (info_hash instanceof Uint8Array && info_hash.length === 20) return info_hash;
  return undefined;
}

/**
 * Rewrites one answer for the query's `want` (called by the instance of `own` family before the
 * answer is encoded). `nodes` are k-rpc's own-family nodes; the other family's go in `response`
 * as `nodes6` (IPv4 instance) or `nodes4` (IPv6 instance: its socket sends them as `nodes`).
 * Returns the own-family nodes to send, or null for none.
 */
export function answerWant<N>(own: Family, query: { a?: unknown } | undefined, response: Record<string, unknown>, nodes: N[] | null | undefined, other: WantSide | undefined): N[] | null | undefined {
  const want = wantOf(query?.a);
  if (!want) return nodes;
  const target = targetOf(query?.a);
  const foreign = own === 'n4' ? 'n6' : 'n4';
  if (want.has(foreign) && other && target) {
    const list = other.closest(target, K);
    if (foreign === 'n6') response.nodes6 = compactNodes6(list);
    else response.nodes4 = compactNodes4(list);
  }
  return want.has(own) ? nodes : null;
}

export function compactNodes4(nodes: WantNode[]): Buffer {
  const out: Uint8Array[] = [];
  for (const n of nodes) {
    const ip = n.host.split('.').map(Number);
    if (ip.length !== 4 || n.id.length !== 20) continue;
    const b = new Uint8Array(26);
    b.set(n.id);
    b.set(ip, 20);
    b[24] = n.port >> 8;
    b[25] = n.port & 255;
    out.push(b);
  }
  return Buffer.from(concatBytes(out));
}

export function compactNodes6(nodes: WantNode[]): Buffer {
  const out: Uint8Array[] = [];
  for (const n of nodes) {
    if (n.id.length !== 20) continue;
    const b = new Uint8Array(38);
    b.set(n.id);
    try {
      b.set(ipv6Bytes(n.host), 20);
    } catch {
      continue;
    }
    b[36] = n.port >> 8;
    b[37] = n.port & 255;
    out.push(b);
  }
  return Buffer.from(concatBytes(out));
}

/** Addresses in a received `nodes6` (38 bytes a node) worth asking: at most MAX_TAKEN. */
export function parseNodes6(v: unknown): PeerAddress[] {
  const out: PeerAddress[] = [];
  if (!(v instanceof Uint8Array)) return out;
  for (let i = 0; i + 38 <= v.length && out.length < MAX_TAKEN; i += 38) {
    const host = ipv6Text(v, i + 20);
    const port = (v[i + 36]! << 8) | v[i + 37]!;
    if (port > 0 && usable(host) && !host.startsWith('ff')) out.push({ host, port });
  }
  return out;
}

/** Addresses in a received IPv4 `nodes` (26 bytes a node) worth asking: at most MAX_TAKEN. */
export function parseNodes4(v: unknown): PeerAddress[] {
  const out: PeerAddress[] = [];
  if (!(v instanceof Uint8Array)) return out;
  for (let i = 0; i + 26 <= v.length && out.length < MAX_TAKEN; i += 26) {
    const host = `${v[i + 20]}.${v[i + 21]}.${v[i + 22]}.${v[i + 23]}`;
    const port = (v[i + 24]! << 8) | v[i + 25]!;
    // 0/8 is no host; 224/3 multicast, reserved, and our own handles for IPv6 addresses.
    if (port > 0 && v[i + 20]! !== 0 && v[i + 20]! < 224 && !isHandle(host)) out.push({ host, port });
  }
  return out;
}

/**
 * Fills `to`'s table through `via`'s nodes: a find_node for `to`'s own id with `want` naming `to`'s
 * family, to `via`'s bootstrap nodes and closest nodes; the nodes of that family in the answers are
 * added to `to` (which pings them before they enter its table).
 */
export class WantFiller {
  private readonly last = new Map<Family, number>();

  fill(to: WantSide, via: WantSide, force = false): void {
    const now = Date.now();
    if (!force && (to.nodeCount() >= FILL_BELOW || now - (this.last.get(to.family) ?? -Infinity) < FILL_EVERY_MS)) return;
    this.last.set(to.family, now);
    const ask = new Map<string, PeerAddress>();
    for (const n of [...via.bootstrapNodes, ...via.closest(to.nodeId, K)]) ask.set(`${n.host}:${n.port}`, { host: n.host, port: n.port });
    for (const node of ask.values()) {
      void via.ask(node, 'find_node', { target: Buffer.from(to.nodeId), want: [to.family] }).then((r) => {
        // From an IPv4 node `nodes6` as sent; from an IPv6 one the socket kept its `nodes` as `nodes4`.
        const found = to.family === 'n6' ? parseNodes6(r?.nodes6) : parseNodes4(r?.nodes4);
        for (const n of found) to.addNode(n);
      });
    }
  }
}
