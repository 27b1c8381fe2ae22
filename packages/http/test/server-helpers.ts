// Starting a real server for a test: its own temp state dir, every port OS-assigned, no DHT, bound
// to 127.0.0.1 only. Closed (and the dir removed) when the test ends.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../index.ts';

export interface TestServer extends RunningServer {
  root: string;
  downloadDir: string;
  /** fetch() against the server as its operator (the API token); `path` starts with "/". */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** fetch() with no credentials at all. */
  anonymous(path: string, init?: RequestInit): Promise<Response>;
  /** JSON request → {status, body}; with the API token unless `anonymous` (or own headers say otherwise). */
  json<T = any>(path: string, init?: RequestInit & { json?: unknown; anonymous?: boolean }): Promise<{ status: number; body: T; res: Response }>;
}

/** A test node's options under `root`: state and downloads inside it, every port OS-assigned, loopback only, no DHT. */
export function testServerOptions(root: string): ServerOptions {
  return {
    stateDir: join(root, 'state'),
    downloadDir: join(root, 'downloads'),
    host: '127.0.0.1',
    httpPort: 0,
    btPort: 0,
    btHost: '127.0.0.1',
    iceServers: [], // tests never reach a STUN server
    dht: false,
    trackerPorts: { http: 0, udp: 0 },
    webRoot: join(root, 'no-web-build'),
    // Tests of the chain ask for it (chain-health.test.ts); others need no anvil each.
    chain: false,
  };
}

export async function startTestServer(
  t: { after: (fn: () => unknown) => void },
  opts: Partial<ServerOptions> = {},
): Promise<TestServer> {
  const root = mkdtempSync(join(tmpdir(), 'cascade-server-'));
  const downloadDir = join(root, 'downloads');
  // A start that is refused (cluster.test's two) leaves its state dir too.
  const server = await startServer({ ...testServerOptions(root), ...opts }).catch((err: unknown) => {
    rmSync(root, { recursive: true, force: true });
    throw err;
  });
  t.after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });
  const anonymous = (path: string, init?: RequestInit) => fetch(server.url + path, init);
  const withToken = (headers: HeadersInit | undefined): Headers => {
    const h = new Headers(headers);
    if (!h.has('authorization') && !h.has('cookie')) h.set('authorization', `Bearer ${server.token}`);
    return h;
  };
  const request = (path: string, init: RequestInit = {}) => anonymous(path, { ...init, headers: withToken(init.headers) });
  return {
    ...server,
    root,
    downloadDir,
    request,
    anonymous,
    async json(path, init = {}) {
      const { json, anonymous: anon, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined) headers.set('content-type', 'application/json');
      const res = await (anon ? anonymous : request)(path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}) });
      const text = await res.text();
      let body: any;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      return { status: res.status, body, res };
    },
  };
}

/** A multipart body with files given as [name, bytes] (names may hold "folder/" paths). */
export function formWith(files: [string, Uint8Array | string][], field = 'file'): FormData {
  const fd = new FormData();
  for (const [name, data] of files) fd.append(field, new Blob([typeof data === 'string' ? data : new Uint8Array(data)]), name);
  return fd;
}

/** Deterministic pseudo-random bytes (so a failing hash comparison is reproducible). */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The claim code as the machine's owner reads it: <state-dir>/claim-code (what `cascade claim-code` prints). */
export function claimCodeOf(s: Pick<RunningServer, 'node'>): string {
  return readFileSync(join(s.node.db.stateDir, 'claim-code'), 'utf8').trim();
}
