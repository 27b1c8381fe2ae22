// A real Cascade node for the qBittorrent Web API tests, the @ctrl/qbittorrent client pointed at it,
// a raw form-posting helper (for what the client does not send), and torrents made from real files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QBittorrent } from '@ctrl/qbittorrent';
import { createTorrent } from '@cascade/engine';
import { patternBytes, startTestServer, type TestServer } from '../../http/test/server-helpers.ts';

export interface QbNode {
  s: TestServer;
  /** @ctrl/qbittorrent logged in as any user with the node's token. */
  client: QBittorrent;
  /** Logs in over raw HTTP and returns the `SID=…` cookie pair. */
  login(): Promise<string>;
  /** A form POST (or a GET when `body` is undefined) to /api/v2/<path> with the cookie. */
  call(path: string, body?: Record<string, string> | undefined, cookie?: string): Promise<{ status: number; text: string; json: any; res: Response }>;
}

export async function startQbNode(t: { after: (fn: () => unknown) => void }, opts: Parameters<typeof startTestServer>[1] = {}): Promise<QbNode> {
  const s = await startTestServer(t, opts);
  const client = new QBittorrent({ baseUrl: s.url, username: 'cascade', password: s.token, timeout: 30_000 });
  let cookie: string | undefined;
  const login = async () => {
    const res = await fetch(`${s.url}/api/v2/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: s.token }).toString(),
    });
    const set = res.headers.get('set-cookie');
    if (res.status !== 200 || !set) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return set.split(';')[0]!;
  };
  return {
    s,
    client,
    login,
    async call(path, body, useCookie) {
      cookie ??= await login();
      const headers: Record<string, string> = { cookie: useCookie ?? cookie };
      const init: RequestInit = body === undefined ? { headers } : {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body).toString(),
      };
      const res = await fetch(`${s.url}/api/v2/${path}`, init);
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, text, json, res };
    },
  };
}

/** A file of `size` pattern bytes under `dir` and a .torrent of it (its data already in place = it seeds). */
export async function fileTorrent(dir: string, name: string, size: number, seed = 1): Promise<{ torrent: Uint8Array<ArrayBuffer>; infoHash: string; path: string }> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, patternBytes(size, seed));
  const made = await createTorrent(path, { pieceLength: 16384 });
  return { torrent: new Uint8Array(made.torrent), infoHash: made.metainfo.infoHashHex, path };
}

/** A folder of files and a .torrent of it. */
export async function folderTorrent(dir: string, name: string, files: [string, number][]): Promise<{ torrent: Uint8Array<ArrayBuffer>; infoHash: string; path: string }> {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  files.forEach(([f, size], i) => writeFileSync(join(root, f), patternBytes(size, i + 7)));
  const made = await createTorrent(root, { pieceLength: 16384 });
  return { torrent: new Uint8Array(made.torrent), infoHash: made.metainfo.infoHashHex, path: root };
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` after a generous while. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const magnetOf = (hash: string, name: string) => `magnet:?xt=urn:btih:${hash}&dn=${encodeURIComponent(name)}`;
