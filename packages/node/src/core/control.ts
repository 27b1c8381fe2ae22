// The control endpoint: how verbs (`cascade list`, `pause`, …) reach a running node. The node
// listens for HTTP JSON-RPC on 127.0.0.1 port 0 and advertises {port, pid, token} in
// <state-dir>/control.json (mode 0600). The token (the node's API token) keeps other local users and web pages (which
// can POST to localhost) from driving the node; only someone who can read the state dir can.

import type { Server, IncomingMessage, ServerResponse } from 'node:http';
import { nodeHttp } from '@cascade/engine/lazy-builtins';
import { readFileSync, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ApiToken, tokenEquals } from '@cascade/node-state';
import { NodeError, errorMessage, isNodeErrorKind, type NodeErrorKind } from '@cascade/node-state/errors';

export const CONTROL_FILE = 'control.json';
/** Torrent files travel base64-encoded in `add`; allow big ones, refuse absurd bodies. */
const MAX_BODY = 64 * 1024 * 1024;

export interface ControlInfo {
  port: number;
  pid: number;
  token: string;
}

export type RpcParams = Record<string, unknown>;
export type RpcHandler = (params: RpcParams) => unknown;
export type RpcHandlers = Record<string, RpcHandler>;

interface RpcRequest {
  method: string;
  params?: RpcParams;
}

// exitCode stays beside kind for clients that know only it (kind came later, issue 41).
type RpcResponse = { result: unknown } | { error: { message: string; exitCode: number; kind?: NodeErrorKind; cause?: WireCause } };

/** An error's cause as it crosses the endpoint: what lets a verb say what failed underneath (a
 *  refused connection's code, the URL or address it was for) instead of passing a message on. */
interface WireCause {
  name: string;
  message: string;
  code?: string;
  url?: string;
  address?: string;
  hostname?: string;
  port?: number;
  cause?: WireCause;
}

function toWire(err: unknown, depth = 0): WireCause | undefined {
  if (!(err instanceof Error) || depth > 8) return undefined;
  const e = err as Error & Record<string, unknown>;
  const w: WireCause = { name: e.name, message: e.message };
  for (const k of ['code', 'url', 'address', 'hostname'] as const) if (typeof e[k] === 'string') w[k] = e[k];
  if (typeof e.port === 'number') w.port = e.port;
  // An AggregateError (a name with several addresses) stands for its first.
  const cause = toWire(e.cause ?? (err instanceof AggregateError ? err.errors[0] : undefined), depth + 1);
  return cause ? { ...w, cause } : w;
}

function fromWire(w: WireCause | undefined): Error | undefined {
  if (!w) return undefined;
  const { cause, message, ...fields } = w;
  return Object.assign(new Error(message, { cause: fromWire(cause) }), fields);
}

export function controlPath(stateDir: string): string {
  return join(stateDir, CONTROL_FILE);
}

export function readControlInfo(stateDir: string): ControlInfo | undefined {
  let text: string;
  try {
    text = readFileSync(controlPath(stateDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as Partial<ControlInfo>;
    if (typeof v.port === 'number' && typeof v.pid === 'number' && typeof v.token === 'string') {
      return { port: v.port, pid: v.pid, token: v.token };
    }
  } catch {
    // A torn or hand-edited file is the same as none: treat the node as offline.
  }
  return undefined;
}

function writeControlInfo(stateDir: string, info: ControlInfo): void {
  // Write-then-rename so a reader never sees half a file; 0600 because the token is a credential.
  const tmp = `${controlPath(stateDir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o600 });
  renameSync(tmp, controlPath(stateDir));
}

function tokenMatches(header: string | undefined, token: string): boolean {
  return tokenEquals(header?.replace(/^Bearer /, '') ?? '', token);
}

function send(res: ServerResponse, status: number, body: RpcResponse): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new NodeError('failed', 'request too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class ControlServer {
  /** The node's API token; rotating it rewrites control.json, so verbs find the new one. */
  readonly apiToken: ApiToken;
  readonly stateDir: string;
  #server: Server;
  #handlers: RpcHandlers;
  #registered = false;

  private constructor(stateDir: string, handlers: RpcHandlers) {
    this.stateDir = stateDir;
    this.#handlers = handlers;
    // The node's API token (node-state/src/api-token.ts): one credential for the CLI, scripts and the HTTP API.
    this.apiToken = new ApiToken(stateDir);
    this.apiToken.onRotate(() => {
      if (this.#registered) writeControlInfo(this.stateDir, this.info);
    });
    this.#server = nodeHttp().createServer((req, res) => void this.#handle(req, res));
  }

  /** Starts listening on 127.0.0.1 (random port) and, unless register is false, writes control.json. */
  static async start(stateDir: string, handlers: RpcHandlers, opts: { register?: boolean } = {}): Promise<ControlServer> {
    const s = new ControlServer(stateDir, handlers);
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(0, '127.0.0.1', () => resolve());
    });
    // Verbs are one-shot: do not let idle keep-alive sockets hold the node open on shutdown.
    s.#server.keepAliveTimeout = 1000;
    if (opts.register !== false) {
      writeControlInfo(stateDir, s.info);
      s.#registered = true;
    }
    return s;
  }

  /** Adds methods from parts that start after the node (the server's RSS reader: rss.*). */
  extend(handlers: RpcHandlers): void {
    Object.assign(this.#handlers, handlers);
  }

  get token(): string {
    return this.apiToken.value;
  }

  get port(): number {
    const addr = this.#server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  get info(): ControlInfo {
    return { port: this.port, pid: process.pid, token: this.token };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST' || req.url !== '/rpc') {
        return send(res, 404, { error: { message: 'POST /rpc only', exitCode: 1 } });
      }
      if (!tokenMatches(req.headers.authorization, this.token)) {
        return send(res, 401, { error: { message: 'bad control token', exitCode: 1 } });
      }
      let call: RpcRequest;
      try {
        call = JSON.parse(await readBody(req)) as RpcRequest;
      } catch (err) {
        return send(res, 400, { error: { message: `bad request: ${errorMessage(err)}`, exitCode: 1 } });
      }
      const handler = Object.hasOwn(this.#handlers, call.method) ? this.#handlers[call.method] : undefined;
      if (!handler) return send(res, 404, { error: { message: `unknown method "${call.method}"`, exitCode: 2, kind: 'invalid' } });
      const result = await handler(call.params ?? {});
      send(res, 200, { result: result ?? null });
    } catch (err) {
      const kind: NodeErrorKind = err instanceof NodeError ? err.kind : 'failed';
      const cause = toWire(err instanceof Error ? err.cause : undefined);
      if (!res.headersSent) send(res, 500, { error: { message: errorMessage(err), exitCode: kind === 'invalid' ? 2 : 1, kind, ...(cause ? { cause } : {}) } });
    }
  }

  /** Stops listening and removes control.json if it is still ours (a newer node may have replaced it). */
  async close(): Promise<void> {
    if (this.#registered) {
      this.#registered = false;
      const info = readControlInfo(this.stateDir);
      if (info?.pid === process.pid && info.port === this.port) {
        try {
          unlinkSync(controlPath(this.stateDir));
        } catch {
          // Already gone: nothing to clean.
        }
      }
    }
    this.#server.closeIdleConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Raised when control.json points nowhere: the verb should fall back to offline mode. */
class Offline extends Error {}

function post(info: ControlInfo, body: RpcRequest, timeoutMs: number): Promise<RpcResponse> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = nodeHttp().request(
      {
        host: '127.0.0.1',
        port: info.port,
        method: 'POST',
        path: '/rpc',
        // agent:false: a fresh connection that closes after the reply, so a verb exits at once.
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          authorization: `Bearer ${info.token}`,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 401) return reject(new Offline('token rejected'));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RpcResponse);
          } catch {
            // Something else owns that port now (the node died and the port was reused).
            reject(new Offline('not a cascade control endpoint'));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new NodeError('failed', `node (pid ${info.pid}) did not answer within ${timeoutMs / 1000}s`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' ? new Offline(err.code) : err);
    });
    req.end(payload);
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ControlClient {
  readonly info: ControlInfo;
  readonly timeoutMs: number;

  constructor(info: ControlInfo, timeoutMs = 30_000) {
    this.info = info;
    this.timeoutMs = timeoutMs;
  }

  async call<T = unknown>(method: string, params: RpcParams = {}): Promise<T> {
    let res: RpcResponse;
    try {
      res = await post(this.info, { method, params }, this.timeoutMs);
    } catch (err) {
      if (err instanceof Offline) throw new NodeError('failed', 'the node stopped while handling the request');
      throw err;
    }
    if ('error' in res) {
      const { message, exitCode, kind, cause } = res.error;
      throw new NodeError(isNodeErrorKind(kind) ? kind : exitCode === 2 ? 'invalid' : 'failed', message, { cause: fromWire(cause) });
    }
    return res.result as T;
  }
}

/** A client for the node running on this state dir, or undefined when none is (stale file, dead pid). */
export async function connectControl(stateDir: string, timeoutMs = 30_000): Promise<ControlClient | undefined> {
  const info = readControlInfo(stateDir);
  if (!info || !pidAlive(info.pid)) return undefined;
  try {
    const res = await post(info, { method: 'ping' }, Math.min(timeoutMs, 5000));
    if ('error' in res) return undefined;
  } catch (err) {
    if (err instanceof Offline) return undefined;
    throw err;
  }
  return new ControlClient(info, timeoutMs);
}
