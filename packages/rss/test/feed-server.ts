// A real HTTP server on 127.0.0.1 serving RSS 2.0 and Atom feeds whose items carry .torrent
// enclosures (real .torrent files made by the engine's createTorrent) and magnets, plus feeds that
// fail: HTTP 500, garbage, an HTML page, a document too big, one that never answers. Tests add
// items between refreshes with `publish`.

import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createTorrent } from '@cascade/engine';

export interface FeedEntry {
  title: string;
  /** A name under /t/ (a .torrent made by `torrentFor`) or a magnet. */
  torrent: string;
  guid?: string;
  /** How the item names its torrent in RSS: an enclosure (default), <torrent:magnetURI>, or <link>. */
  as?: 'enclosure' | 'magnetURI' | 'link';
  pubDate?: Date;
}

export interface FeedServer {
  url: string;
  /** Items of /rss.xml and /atom.xml (newest first, as feeds list them). */
  rss: FeedEntry[];
  atom: FeedEntry[];
  /** Makes a real .torrent of `size` bytes of content named `name` and serves it at /t/<name>.torrent. */
  torrentFor(name: string, size?: number): Promise<{ url: string; infoHash: string }>;
  /** How many times each path was requested. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function rssXml(base: string, entries: FeedEntry[]): string {
  const items = entries.map((e) => {
    const url = e.torrent.startsWith('magnet:') ? e.torrent : `${base}/t/${e.torrent}.torrent`;
    const how =
      e.as === 'magnetURI'
        ? `<torrent:magnetURI><![CDATA[${url}]]></torrent:magnetURI><link>${esc(base)}/page/${encodeURIComponent(e.title)}</link>`
        : e.as === 'link'
          ? `<link>${esc(url)}</link>`
          : `<enclosure url="${esc(url)}" type="${url.startsWith('magnet:') ? 'application/x-bittorrent' : 'application/x-bittorrent'}" length="1234"/>`;
    return `<item><title>${esc(e.title)}</title><guid isPermaLink="false">${esc(e.guid ?? e.title)}</guid>${how}<pubDate>${(e.pubDate ?? new Date()).toUTCString()}</pubDate></item>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>Test RSS feed</title><link>${esc(base)}</link><atom:link href="${esc(base)}/rss.xml" rel="self"/>
${items.join('\n')}
</channel></rss>`;
}

function atomXml(base: string, entries: FeedEntry[]): string {
  const items = entries.map((e) => {
    const url = e.torrent.startsWith('magnet:') ? e.torrent : `${base}/t/${e.torrent}.torrent`;
    return `<entry><title type="text">${esc(e.title)}</title><id>${esc(e.guid ?? `urn:test:${e.title}`)}</id>
<link rel="alternate" href="${esc(base)}/page/${encodeURIComponent(e.title)}"/>
<link rel="enclosure" type="application/x-bittorrent" href="${esc(url)}" length="4321"/>
<updated>${(e.pubDate ?? new Date()).toISOString()}</updated></entry>`;
  });
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Test Atom feed</title><id>urn:test:atom</id><updated>${new Date().toISOString()}</updated>
${items.join('\n')}
</feed>`;
}

export async function startFeedServer(t: { after: (fn: () => unknown) => void }): Promise<FeedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-feeds-'));
  const torrents = new Map<string, Uint8Array>();
  const hits = new Map<string, number>();
  const state = { rss: [] as FeedEntry[], atom: [] as FeedEntry[] };
  let base = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const send = (status: number, type: string, body: string | Uint8Array) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/rss.xml') return send(200, 'application/rss+xml', rssXml(base, state.rss));
    if (path === '/atom.xml') return send(200, 'application/atom+xml', atomXml(base, state.atom));
    if (path === '/500') return send(500, 'text/plain', 'oops');
    if (path === '/garbage') return send(200, 'application/rss+xml', '<rss><channel><item><title>cut off');
    if (path === '/html') return send(200, 'text/html', '<html><head><title>Not a feed</title></head><body><p>hello</p></body></html>');
    if (path === '/huge') {
      // 8 MiB of items, past the node's 5 MiB cap, without a content-length: the cap must count.
      res.writeHead(200, { 'content-type': 'application/rss+xml' });
      res.write('<rss><channel><title>huge</title>');
      const chunk = '<item><title>' + 'x'.repeat(1000) + '</title></item>';
      let sent = 0;
      const more = () => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end('</channel></rss>');
      };
      res.on('error', () => {});
      return more();
    }
    if (path === '/slow') return; // never answers: the node's timeout must end it
    const m = /^\/t\/(.+)\.torrent$/.exec(path);
    if (m && torrents.has(decodeURIComponent(m[1]!))) return send(200, 'application/x-bittorrent', torrents.get(decodeURIComponent(m[1]!))!);
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fs: FeedServer = {
    url: base,
    get rss() {
      return state.rss;
    },
    set rss(v) {
      state.rss = v;
    },
    get atom() {
      return state.atom;
    },
    set atom(v) {
      state.atom = v;
    },
    hits,
    async torrentFor(name, size = 20_000) {
      const content = join(dir, name);
      writeFileSync(content, Buffer.alloc(size, name));
      const { torrent, metainfo } = await createTorrent(content, {});
      torrents.set(name, torrent);
      return { url: `${base}/t/${encodeURIComponent(name)}.torrent`, infoHash: metainfo.infoHashHex };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.after(() => fs.close());
  return fs;
}

export function magnetOf(infoHash: string, name: string): string {
  return `magnet:?xt=urn:btih:${infoHash}&dn=${encodeURIComponent(name)}`;
}

/** Polls `fn` until it gives something truthy (every 100 ms, for at most `ms`). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
