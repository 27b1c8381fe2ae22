// KRPC methods of our own on the mainline DHT's routing table and iterative lookup (bittorrent-dht's
// k-rpc). A layer above the engine (records, indexes) registers a method and its handler here, walks
// toward a target with it, and writes to the closest nodes it met: the same shape as BEP 44's get and
// put (a reply carries a write token for the asker and the nodes closest to the target; a write must
// bring that token back), without the engine knowing what the messages mean. bittorrent-dht answers
// BEP 5/44 methods itself and stays silent on others, which is where these answers come from.

import crypto from 'node:crypto';
import type { DhtContact, DhtQueries, DhtQueryError, DhtQueryHandler, DhtQueryReply } from '../discovery/dht-types.ts';

/** The parts of k-rpc (bittorrent-dht's `_rpc`) used here. */
export interface KrpcInternals {
  id: Buffer;
  on(event: 'query', fn: (query: KrpcMessage, peer: { address: string; port: number }) => void): void;
  removeListener(event: 'query', fn: (...a: never[]) => void): void;
  response(peer: { address: string; port: number }, query: KrpcMessage, r: Record<string, unknown>, nodes?: unknown[]): void;
  error(peer: { address: string; port: number }, query: KrpcMessage, e: [number, string]): void;
  closest(target: Buffer, message: { q: string; a: Record<string, unknown> }, visit: (res: KrpcMessage, peer: { address?: string; host?: string; port: number }) => unknown, cb: (err: Error | null) => void): void;
  query(node: { host: string; port: number }, message: { q: string; a: Record<string, unknown> }, cb: (err: (Error & { code?: number }) | null, res?: KrpcMessage) => void): void;
  nodes: { closest(target: Buffer, k?: number): unknown[] };
}

interface KrpcMessage {
  q?: Buffer;
  a?: Record<string, unknown>;
  r?: Record<string, unknown>;
}

const BEP_METHODS = new Set(['ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put']);
const WRITE_SET_SIZE = 8;
const TOKEN_ROTATE_MS = 5 * 60 * 1000;

/** How the IPv6 instance's hosts (handles, dht6-socket.ts) map to real addresses and back. */
export interface HostMap {
  real(host: string): string | undefined;
  wire(host: string): string;
}

const SAME: HostMap = { real: (h) => h, wire: (h) => h };

export class DhtCustomQueries implements DhtQueries {
  private readonly rpc: KrpcInternals;
  private readonly hosts: HostMap;
  private readonly handlers = new Map<string, { handler: DhtQueryHandler; write: boolean }>();
  private secrets = [crypto.randomBytes(20), crypto.randomBytes(20)];
  private readonly rotate: NodeJS.Timeout;
  private readonly onQuery: (query: KrpcMessage, peer: { address: string; port: number }) => void;

  constructor(rpc: KrpcInternals, hosts: HostMap = SAME) {
    this.rpc = rpc;
    this.hosts = hosts;
    this.rotate = setInterval(() => (this.secrets = [crypto.randomBytes(20), this.secrets[0]!]), TOKEN_ROTATE_MS).unref();
    this.onQuery = (query, peer) => this.answer(query, peer);
    rpc.on('query', this.onQuery);
  }

  get nodeId(): Uint8Array {
    return this.rpc.id;
  }

  handle(method: string, handler: DhtQueryHandler, opts: { write?: boolean } = {}): void {
    if (BEP_METHODS.has(method)) throw new Error(`"${method}" is a BEP 5/44 method; bittorrent-dht answers it`);
    this.handlers.set(method, { handler, write: opts.write === true });
  }

  walk(target: Uint8Array, method: string, args: Record<string, unknown>, onReply?: (reply: DhtQueryReply) => void, signal?: AbortSignal): Promise<DhtContact[]> {
    const t = Buffer.from(target);
    if (t.length !== 20) return Promise.reject(new Error('a DHT target is 20 bytes'));
    if (signal?.aborted) return Promise.resolve([]);
    const met: DhtContact[] = [];
    return new Promise((resolve) => {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        signal?.removeEventListener('abort', end);
        resolve(closestFirst(met, t).slice(0, WRITE_SET_SIZE));
      };
      // Answers still on their way are not waited for; k-rpc asks no one new once visit says false.
      signal?.addEventListener('abort', end, { once: true });
      this.rpc.closest(
        t,
        { q: method, a: toWire({ ...args, target: t }) as Record<string, unknown> },
        (res, peer) => {
          if (ended) return false;
          const r = res.r;
          if (!r) return true;
          const host = this.hosts.real(peer.address ?? peer.host ?? '');
          if (host === undefined) return true;
          const from = { host, port: peer.port };
          if (isBytes(r.id, 20) && isBytes(r.token)) met.push({ ...from, id: new Uint8Array(r.id), token: new Uint8Array(r.token) });
          try {
            onReply?.({ from, r });
          } catch {
            // A consumer's bug must not stop the walk.
          }
          return true;
        },
        end,
      );
    });
  }

  send(contacts: DhtContact[], method: string, args: Record<string, unknown>, onReply?: (reply: DhtQueryReply) => void): Promise<{ accepted: number; errors: string[] }> {
    let accepted = 0;
    const errors: string[] = [];
    return Promise.all(
      contacts.map(
        (c) =>
          new Promise<void>((done) => {
            const a = toWire({ ...args, token: c.token }) as Record<string, unknown>;
            this.rpc.query({ host: this.hosts.wire(c.host), port: c.port }, { q: method, a }, (err, res) => {
              if (err) errors.push(`${c.host}:${c.port}: ${err.message}`);
              else {
                accepted++;
                try {
                  if (res?.r) onReply?.({ from: { host: c.host, port: c.port }, r: res.r });
                } catch {
                  // A consumer's bug must not stop the others' answers.
                }
              }
              done();
            });
          }),
      ),
    ).then(() => ({ accepted, errors }));
  }

  close(): void {
    clearInterval(this.rotate);
    this.rpc.removeListener('query', this.onQuery as never);
    this.handlers.clear();
  }

  private answer(query: KrpcMessage, peer: { address: string; port: number }): void {
    const method = query.q ? Buffer.from(query.q).toString() : '';
    const entry = this.handlers.get(method);
    if (!entry || !query.a || typeof query.a !== 'object') return;
    const a = query.a;
    const tokened = isBytes(a.token) && this.validToken(peer.address, a.token);
    if (entry.write && !tokened) {
      this.rpc.error(peer, query, [203, `${method}: bad or missing token (ask first, then write)`]);
      return;
    }
    let out: Record<string, unknown> | DhtQueryError;
    try {
      // Tokens are made for the address as the socket shows it (a handle on IPv6): the same one each time.
      out = entry.handler(a, { host: this.hosts.real(peer.address) ?? peer.address, port: peer.port, tokened });
    } catch (err) {
      out = { error: [202, `${method}: ${(err as Error).message}`] };
    }
    if ('error' in out && Array.isArray(out.error)) {
      this.rpc.error(peer, query, out.error as [number, string]);
      return;
    }
    const target = isBytes(a.target, 20) ? Buffer.from(a.target) : undefined;
    const r = toWire({ ...out, id: this.rpc.id, token: this.token(peer.address, this.secrets[0]!) }) as Record<string, unknown>;
    this.rpc.response(peer, query, r, target ? this.rpc.nodes.closest(target, WRITE_SET_SIZE) : undefined);
  }

  private token(host: string, secret: Buffer): Buffer {
    return crypto.createHash('sha1').update(host).update(secret).digest();
  }

  private validToken(host: string, token: Uint8Array): boolean {
    const t = Buffer.from(token);
    return this.secrets.some((s) => this.token(host, s).equals(t));
  }
}

function isBytes(v: unknown, length?: number): v is Uint8Array {
  return v instanceof Uint8Array && (length === undefined || v.length === length);
}

function closestFirst(contacts: DhtContact[], target: Buffer): DhtContact[] {
  const seen = new Set<string>();
  const unique = contacts.filter((c) => {
    const k = `${c.host}:${c.port}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return unique.sort((x, y) => Buffer.compare(xor(x.id, target), xor(y.id, target)));
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(20);
  for (let i = 0; i < 20; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The bencoder under k-rpc encodes Buffers, not plain Uint8Arrays: convert them all the way down. */
function toWire(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toWire(x);
    return out;
  }
  return v;
}
