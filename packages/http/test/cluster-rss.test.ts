// RSS in a cluster (issue 42): the feeds and rules are the cluster's (one library), so their timer
// runs on one member — the coordinator — and a due feed is fetched (and its rules applied) once per
// cluster, not once per member. When the coordinator goes, the next one takes the timer over. Two
// real members on a real PostgreSQL and redis-server, a feed served on loopback that counts fetches.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startPostgres } from '../../node/test/postgres-server.ts';
import { startRedis } from '../../tracker/test/helpers.ts';
import type { ClusterMember } from '@cascade/cluster';
import { startTestServer, type TestServer } from './server-helpers.ts';
import { until } from './model-helpers.ts';

const FEED = `<?xml version="1.0"?><rss version="2.0"><channel><title>counted</title></channel></rss>`;

test('a due feed is fetched by the coordinator alone, and by the next coordinator once it goes', { timeout: 180_000 }, async (t) => {
  let fetches = 0;
  const feedServer = createServer((req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(FEED);
  });
  feedServer.listen(0, '127.0.0.1');
  await once(feedServer, 'listening');
  t.after(() => feedServer.close());
  const feedUrl = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}/feed.xml`;

  const pg = await startPostgres(t);
  const database = await pg.database('cluster_rss');
  const redis = await startRedis();
  t.after(() => redis.stop());
  const cluster = (port: number) => ({ database, allowPrivateUrls: true, cluster: { url: `http://127.0.0.1:${port}`, redis: redis.url } });
  const a = await startTestServer(t, cluster(18093));
  await a.ready;
  await until('A coordinates', () => a.node.cluster!.isCoordinator);
  const b = await startTestServer(t, cluster(18094));
  await b.ready;
  const busUp = (s: TestServer) => (s.node.cluster as ClusterMember | undefined)?.changes?.bus.connected;
  await until('both buses connected', () => busUp(a) && busUp(b));
  assert.equal(b.node.cluster!.isCoordinator, false);

  // A feed added through B: B fetches it once, as asked.
  const added = await b.json('/api/rss/feeds', { method: 'POST', json: { url: feedUrl } });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  const id = added.body.id as number;
  await until('the first fetch', async () => fetches === 1 && (await a.json('/api/rss/feeds')).body.feeds[0]?.lastRefreshAt);

  // It falls due (its last refresh made an hour old) and both members' timers re-arm (a settings
  // change reaches both): one fetch, the coordinator's. Before, every member fetched it.
  const overdue = () => a.node.db.store.run('UPDATE rss_feeds SET last_refresh_at = ? WHERE id = ?', [Date.now() - 3_600_000, id]);
  await overdue();
  assert.equal((await b.json('/api/rss/settings', { method: 'PATCH', json: { refreshInterval: 1800 } })).status, 200);
  await until('the due fetch', () => fetches >= 2);
  // Both members have re-armed by now (each reads the change within its bus's round trip); give a
  // second fetch time to show up if one were coming.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(fetches, 2, 'one fetch per cluster');

  // The coordinator stops: B takes the lease over, and with it the timer of the due feed.
  await overdue();
  await a.close();
  await until('B coordinates', () => b.node.cluster!.isCoordinator, 30_000);
  await until('B fetches the due feed', () => fetches >= 3, 30_000);
  const feeds = (await b.json('/api/rss/feeds')).body.feeds as { id: number; lastRefreshAt: string | number | null }[];
  assert.ok(feeds.find((f) => f.id === id)?.lastRefreshAt, 'B recorded its refresh');
});
