// Private-mode administration over HTTP: create users (each gets a passkey) and register
// torrents. Guarded by a bearer token; without the right one every route answers 401.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface AdminApi {
  token: string;
  registerUser(opts: { name?: string; passkey?: string }): Promise<{ passkey: string; name: string; announceUrls: Record<string, string> }>;
  registerTorrent(infoHashHex: string): Promise<void>;
  userStats(passkey: string): Promise<unknown>;
  listUsers(): Promise<unknown[]>;
}

const MAX_BODY = 16 * 1024;
const PASSKEY = /^[A-Za-z0-9_-]{1,64}$/;

export class AdminError extends Error {
  status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function handleAdmin(api: AdminApi, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  try {
    if (!authorized(api.token, req.headers.authorization)) throw new AdminError(401, 'missing or wrong admin token');
    const seg = path.split('/').filter(Boolean); // ['admin', ...]
    if (seg[1] === 'users' && seg.length === 2 && req.method === 'POST') {
      const body = await readJson(req);
      const name = optionalString(body, 'name');
      const passkey = optionalString(body, 'passkey');
      // registerUser refuses it too, but with a plain Error, which would be an internal error here.
      if (passkey !== undefined && !PASSKEY.test(passkey)) throw new AdminError(400, 'passkey must be 1-64 characters of A-Z a-z 0-9 _ -');
      return send(res, 201, await api.registerUser({ name, passkey }));
    }
    if (seg[1] === 'users' && seg.length === 2 && req.method === 'GET') return send(res, 200, await api.listUsers());
    if (seg[1] === 'users' && seg.length === 3 && req.method === 'GET') {
      const u = await api.userStats(seg[2]!);
      if (!u) throw new AdminError(404, 'no such user');
      return send(res, 200, u);
    }
    if (seg[1] === 'torrents' && seg.length === 2 && req.method === 'POST') {
      const body = await readJson(req);
      const ih = optionalString(body, 'infoHash');
      if (!ih || !/^[0-9a-fA-F]{40}$/.test(ih)) throw new AdminError(400, 'infoHash must be 40 hex digits');
      await api.registerTorrent(ih.toLowerCase());
      return send(res, 201, { infoHash: ih.toLowerCase() });
    }
    throw new AdminError(404, 'no such admin route');
  } catch (err) {
    if (err instanceof AdminError) return send(res, err.status, { error: err.message });
    throw err;
  }
}

function authorized(token: string, header: string | undefined): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new AdminError(413, 'body too large');
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new AdminError(400, 'body must be a JSON object');
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AdminError(400, `${key} must be a string`);
  return v;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
}
