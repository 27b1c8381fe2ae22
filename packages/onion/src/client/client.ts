// The client: picks paths of three distinct relays from the directory (the last an exit), builds
// circuits, sends discovery requests through them, and replaces a circuit when a hop dies or the
// circuit grows old. Requests on a circuit that dies are retried on a new one.
import { decodeCell } from '../protocol/cells.ts';
import { Circuit, CircuitError, type Tunnel } from './circuit.ts';
import { LinkPool, linkAddress, newCircId, type Link, type LinkDialer } from '../protocol/link.ts';
import { isTabRelay, type ExitOperation, type RelayDescriptor } from '../directory/descriptor.ts';
import type { ExitRequest } from '../exit/exit.ts';

export interface OnionClientOptions {
  /** The checked relays to build from (the directory client, or a fixed list). */
  relays: () => Promise<RelayDescriptor[]>;
  dial: LinkDialer;
  /** Which address of a relay to use first; browsers only have 'ws'. */
  prefer?: 'tcp' | 'ws';
  hops?: number;
  /** This client can dial tab relays (WebRTC: browsers). Tabs are then usable, always before the
   *  node relays of a path, since only a browser (this client or another tab) can reach them. */
  webrtc?: boolean;
  /** A circuit older than this takes no new requests (default 10 minutes). */
  rotateMs?: number;
  stepTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How many circuits a request may try before it gives up. */
  attempts?: number;
  /** Relays allowed as the first hop (the one that sees this client's address); default all. When
   *  none of the usable relays qualifies, any may be first. */
  guard?: (r: RelayDescriptor) => boolean;
  onEvent?: (e: OnionEvent) => void;
}

export type OnionEvent =
  | { type: 'circuit-built'; path: string[]; ms: number }
  | { type: 'circuit-failed'; error: string; relay?: string }
  | { type: 'circuit-closed'; path: string[]; reason: string };

/** A relay that failed us sits out this long before a path may use it again. */
const SIT_OUT_MS = 60_000;

export class OnionClient {
  private readonly opts: OnionClientOptions;
  private readonly pool: LinkPool;
  private readonly links = new Map<Link, Map<number, Circuit>>();
  private current: Promise<Circuit> | undefined;
  private readonly failed = new Map<string, number>();
  private closed = false;
  readonly stats = { built: 0, failed: 0, closed: 0, requests: 0 };

  constructor(opts: OnionClientOptions) {
    this.opts = opts;
    this.pool = new LinkPool(async (address, signal) => {
      const link = await opts.dial(address, signal);
      const circuits = new Map<number, Circuit>();
      this.links.set(link, circuits);
      link.onCell((raw) => {
        let cell;
        try {
          cell = decodeCell(raw);
        } catch {
          return link.close();
        }
        circuits.get(cell.circId)?.onCell(cell.cmd, cell.payload);
      });
      link.onClose(() => {
        this.links.delete(link);
        for (const c of circuits.values()) c.close('link to the first relay closed');
      });
      return link;
    });
  }

  /** Sends one request to an exit and returns its answer, building circuits as needed. */
  async request(doc: { op: ExitOperation | string; [k: string]: unknown } | ExitRequest): Promise<unknown> {
    this.stats.requests++;
    const attempts = this.opts.attempts ?? 4;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      if (this.closed) throw new CircuitError('onion client closed');
      let circuit: Circuit;
      try {
        circuit = await this.circuit();
      } catch (err) {
        last = err;
        continue;
      }
      try {
        return await circuit.request(doc, this.opts.requestTimeoutMs ?? 30_000);
      } catch (err) {
        last = err;
        // A circuit that stays silent is as good as dead: replace it.
        if (err instanceof CircuitError && err.timedOut) circuit.destroy('a request timed out');
        // A refusal by the exit is its answer; a circuit that broke is ours to replace.
        if (!circuit.closed) throw err;
      }
    }
    throw last instanceof Error ? last : new CircuitError(String(last));
  }

  /** Opens a tunnel (a WebSocket tracker session) at the exit of the current circuit. */
  async tunnel(doc: unknown, onMessage: (doc: unknown) => void, onClose: (reason: string) => void): Promise<Tunnel> {
    if (this.closed) throw new CircuitError('onion client closed');
    const circuit = await this.circuit();
    return circuit.openTunnel(doc, onMessage, onClose);
  }

  /** The circuit new requests go to: the current one while it is open and young, else a new one. */
  async circuit(): Promise<Circuit> {
    const rotate = this.opts.rotateMs ?? 600_000;
    const cur = this.current;
    if (cur) {
      const c = await cur.catch(() => undefined);
      if (c && !c.closed && Date.now() - c.createdAt <= rotate) return c;
      // Several callers may see the same stale circuit: only the first replaces it.
      if (this.current !== cur) return this.circuit();
      if (c && !c.closed) retire(c);
    }
    const next = this.build();
    this.current = next;
    next.catch(() => {
      if (this.current === next) this.current = undefined;
    });
    return next;
  }

  /** Builds one circuit on a fresh path (or on `given`, relays in order, the exit last). */
  async build(given?: RelayDescriptor[]): Promise<Circuit> {
    const started = Date.now();
    const path = given ?? this.pickPath(await this.opts.relays());
    const first = path[0]!;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.opts.stepTimeoutMs ?? 10_000);
    let link: Link;
    try {
      link = await this.pool.get(linkAddress(first, this.opts.prefer), abort.signal);
    } catch (err) {
      this.sitOut(first.id);
      this.stats.failed++;
      this.opts.onEvent?.({ type: 'circuit-failed', error: `first relay unreachable: ${(err as Error).message}`, relay: first.id });
      throw new CircuitError(`first relay ${first.id} unreachable`, first.id);
    } finally {
      clearTimeout(timer);
    }
    const circuits = this.links.get(link)!;
    const c = new Circuit(link, newCircId(link, (id) => circuits.has(id)), path);
    circuits.set(c.circId, c);
    c.onClose((reason) => {
      circuits.delete(c.circId);
      this.stats.closed++;
      this.opts.onEvent?.({ type: 'circuit-closed', path: path.map((r) => r.id), reason });
    });
    try {
      await c.build(this.opts.stepTimeoutMs ?? 10_000);
    } catch (err) {
      const relay = err instanceof CircuitError ? err.relay : undefined;
      if (relay) this.sitOut(relay);
      this.stats.failed++;
      this.opts.onEvent?.({ type: 'circuit-failed', error: (err as Error).message, relay });
      c.destroy('build failed');
      throw err;
    }
    this.stats.built++;
    this.opts.onEvent?.({ type: 'circuit-built', path: path.map((r) => r.id), ms: Date.now() - started });
    return c;
  }

  /** Three distinct relays (by identity and by address), the last an exit, avoiding recent failures. */
  pickPath(all: RelayDescriptor[]): RelayDescriptor[] {
    const hops = this.opts.hops ?? 3;
    const now = Date.now();
    const usable = all.filter((r) => {
      const until = this.failed.get(r.id);
      if (until !== undefined && until > now) return false;
      if (isTabRelay(r)) return !!this.opts.webrtc;
      try {
        linkAddress(r, this.opts.prefer === 'ws' ? 'ws' : 'tcp');
      } catch {
        return false;
      }
      return this.opts.prefer !== 'ws' || !!r.ws;
    });
    const exits = shuffle(usable.filter((r) => r.exit && r.exit.operations.length > 0));
    const guard = this.opts.guard;
    const strict = !!guard && usable.some(guard);
    for (const exit of exits) {
      // Guards first in the list, so the first hop is one whenever the path can have one.
      const others = shuffle(usable.filter((r) => r.id !== exit.id && hostOf(r) !== hostOf(exit)));
      if (guard) others.sort((a, b) => Number(guard(b)) - Number(guard(a)));
      const path: RelayDescriptor[] = [];
      const hosts = new Set([hostOf(exit)]);
      for (const r of others) {
        if (path.length === hops - 1) break;
        if (hosts.has(hostOf(r))) continue;
        hosts.add(hostOf(r));
        path.push(r);
      }
      // Tabs first: a node relay cannot open a link to a tab, a tab can to a node relay.
      path.sort((a, b) => Number(isTabRelay(b)) - Number(isTabRelay(a)));
      if (path.length === hops - 1 && (!strict || guard!(path[0]!))) return [...path, exit];
    }
    throw new CircuitError(`not enough relays for a ${hops}-hop circuit (${usable.length} usable, need ${hops} on distinct hosts with an exit last)`);
  }

  private sitOut(id: string): void {
    this.failed.set(id, Date.now() + SIT_OUT_MS);
  }

  close(): void {
    this.closed = true;
    this.current?.then((c) => c.destroy('client closed'), () => {});
    this.current = undefined;
    this.pool.closeAll();
  }
}

/** An old circuit finishes what it carries, then goes. */
function retire(c: Circuit): void {
  const check = () => {
    if (c.closed) return;
    if (c.pending === 0) c.destroy('rotated');
    else setTimeout(check, 1000).unref?.();
  };
  check();
}

function hostOf(r: RelayDescriptor): string {
  if (isTabRelay(r)) return r.id;
  if (r.tcp) return r.tcp.slice(0, r.tcp.lastIndexOf(':'));
  try {
    return new URL(r.ws!).hostname;
  } catch {
    return r.ws!;
  }
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0]! % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
