// An RSS feed that changes, served by the soak on 127.0.0.1: a new item every step, the oldest
// dropped past 30 (as a tracker's feed rolls). The node follows it (refreshed through the API at the
// soak's pace, not its 60 s floor) with a rule that takes one item in three, paused, in category
// "rss"; the soak removes what the rule added, as a user clears finished downloads.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { api, apiJson, type SoakNode } from './node.ts';

export interface RssStats {
  steps: number;
  taken: number;
  errors: string[];
}

export class RssFeed {
  readonly stats: RssStats = { steps: 0, taken: 0, errors: [] };
  #items: { guid: string; title: string; magnet: string; date: string }[] = [];
  #server: Server | undefined;
  #feedId: string | undefined;
  #n = 0;

  readonly node: SoakNode;
  constructor(node: SoakNode) {
    this.node = node;
  }

  #xml(): string {
    const items = this.#items
      .map((i) => `<item><title>${i.title}</title><guid>${i.guid}</guid><link>${i.magnet.replace(/&/g, '&amp;')}</link><pubDate>${i.date}</pubDate></item>`)
      .join('');
    return `<?xml version="1.0"?><rss version="2.0"><channel><title>soak feed</title><link>http://127.0.0.1/</link><description>changes</description>${items}</channel></rss>`;
  }

  #push(): void {
    const n = ++this.#n;
    const hash = randomBytes(20).toString('hex');
    this.#items.unshift({ guid: `soak-${n}-${hash}`, title: `${n % 3 === 0 ? 'soak-take' : 'soak-skip'} episode ${n}`, magnet: `magnet:?xt=urn:btih:${hash}&dn=soak-${n}`, date: new Date().toUTCString() });
    this.#items.length = Math.min(this.#items.length, 30);
  }

  async start(): Promise<void> {
    for (let i = 0; i < 5; i++) this.#push();
    this.#server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(this.#xml()));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/feed.xml`;
    this.#feedId = (await apiJson<{ id: string }>(this.node, '/api/rss/feeds', { method: 'POST', body: JSON.stringify({ url }) })).id;
    await apiJson(this.node, '/api/rss/rules', { method: 'POST', body: JSON.stringify({ name: 'soak', mustContain: 'soak-take', category: 'rss', addPaused: true, feeds: [this.#feedId] }) });
  }

  /** The feed changes; the node refreshes it; what its rule added is removed. */
  async step(): Promise<void> {
    try {
      this.#push();
      this.stats.steps++;
      await apiJson(this.node, `/api/rss/feeds/${this.#feedId}/refresh`, { method: 'POST' });
      const page = await apiJson<{ torrents: { infoHash: string }[] }>(this.node, '/api/torrents?category=rss&limit=1000');
      for (const t of page.torrents) {
        const res = await api(this.node, `/api/torrents/${t.infoHash}?deleteData=true`, { method: 'DELETE' });
        await res.arrayBuffer();
        if (res.ok) this.stats.taken++;
      }
    } catch (err) {
      this.stats.errors.push(`rss: ${(err as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
    this.#server?.closeAllConnections();
  }
}
