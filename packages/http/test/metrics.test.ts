// GET /metrics (issue 21): who may read it, what it says, and a real Prometheus (Debian's) scraping two
// nodes that swap a torrent and the tracker one of them runs, checked through Prometheus' HTTP API —
// then every query of the Grafana dashboard in deploy/grafana runs against that same Prometheus.

import assert from 'node:assert/strict';
import test from 'node:test';
import { parseTorrent } from '@cascade/engine';
import { dhtPortOf } from '@cascade/node';
import { startServer } from '../src/app/server.ts';
import { formWith, patternBytes, startTestServer, testServerOptions } from './server-helpers.ts';
import { startPrometheus, type Sample } from '../../node/test/prometheus-helpers.ts';
import { dashboardTargets, grafanaExpr, loadDashboard } from '../../node/test/metrics-dashboard.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const METRICS_TOKEN = 'scrape-only-token-0123456789abcdef';

/** Every series of the contract (packages/http/README.md). */
const SERIES = [
  'cascade_bytes_total', 'cascade_peers', 'cascade_torrents', 'cascade_checks_waiting', 'cascade_pieces_verified_total', 'cascade_hash_failures_total',
  'cascade_disk_errors_total', 'cascade_announces_total', 'cascade_dht_nodes', 'cascade_dht_queries_total', 'cascade_lsd_messages_total', 'cascade_lsd_peers_total',
  'cascade_http_requests_total', 'cascade_node_info', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds',
  'process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'cascade_heap_live_bytes',
  'cascade_rss_after_collection_bytes', 'cascade_last_collection_timestamp_seconds',
];

/** The exposition's samples as "name{labels}" → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

test('GET /metrics: the API token or the metrics token, 401 otherwise; every series, routes by pattern', { timeout: 30_000 }, async (t) => {
  const s = await startTestServer(t, { metricsToken: METRICS_TOKEN });

  const anon = await s.anonymous('/metrics');
  assert.equal(anon.status, 401);
  assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer /);
  assert.match((await anon.json()).message, /API token.*or the metrics token/);
  const wrong = await s.anonymous('/metrics', { headers: { authorization: 'Bearer not-the-token-at-all-000000' } });
  assert.equal(wrong.status, 401);
  const basic = await s.anonymous('/metrics', { headers: { authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}` } });
  assert.equal(basic.status, 401, 'the metrics token is a Bearer token');
  // fetch() will not send another Host: a raw request does (DNS rebinding is refused as anywhere else).
  assert.equal(await statusWithHost(s.url, '/metrics', 'evil.example', s.token), 403, 'the gate still checks the Host');

  // The metrics token reads metrics and nothing else.
  const scraper = { authorization: `Bearer ${METRICS_TOKEN}` };
  assert.equal((await s.anonymous('/api/torrents', { headers: scraper })).status, 401);
  assert.equal((await s.anonymous('/api/health', { headers: scraper })).status, 401);

  // Traffic to count: a route with a parameter, a 404 with a secret in its URL, a refusal.
  assert.equal((await s.request(`/api/torrents/${'ab'.repeat(20)}`)).status, 404);
  assert.equal((await s.request('/api/no-such-route/secret-value?q=secret-value')).status, 404);

  for (const headers of [scraper, { authorization: `Bearer ${s.token}` }]) {
    const res = await s.anonymous('/metrics', { headers });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const name of SERIES) assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
    const m = samples(text);
    for (const state of ['metadata', 'checking', 'downloading', 'seeding', 'paused', 'queued', 'error']) {
      assert.equal(m.get(`cascade_torrents{state="${state}"}`), 0, `${state} is there at 0`);
    }
    for (const transport of ['tcp', 'webrtc', 'webseed']) {
      assert.equal(m.get(`cascade_bytes_total{direction="received",transport="${transport}"}`), 0);
      assert.equal(m.get(`cascade_peers{transport="${transport}"}`), 0);
    }
    assert.equal(m.get('cascade_http_requests_total{route="/api/torrents/:infoHash",method="GET",status="404"}'), 1);
    assert.ok((m.get('cascade_http_requests_total{route="unmatched",method="GET",status="404"}') ?? 0) >= 1);
    assert.ok((m.get('cascade_http_requests_total{route="/metrics",method="GET",status="401"}') ?? 0) >= 3);
    assert.doesNotMatch(text, /secret-value|abababab/, 'raw URLs never become labels');
    assert.ok((m.get('process_cpu_seconds_total') ?? 0) > 0.05, 'CPU counts from the process start, not the first scrape');
    assert.deepEqual(lint(text), [], 'promtool finds nothing wrong with our series');
  }

  // The live heap: what a full collection left (the test's process is the node's: collect here).
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const collected = getHeapStatistics().used_heap_size;
  await new Promise((r) => setTimeout(r, 50)); // the GC observer's callback comes a moment after
  const live = samples(await (await s.request('/metrics')).text()).get('cascade_heap_live_bytes')!;
  assert.ok(Number.isFinite(live) && Math.abs(live - collected) < 8 * 2 ** 20, `live heap ${live} after a collection that left ${collected}`);

  // The RSS just after the memory reducer's latest collection, and when: NaN before one, then its figures.
  const before = samples(await (await s.request('/metrics')).text());
  if (!s.node.memory.lastCollection) assert.ok(Number.isNaN(before.get('cascade_rss_after_collection_bytes')), 'NaN before a collection');
  s.node.memory.lastCollection = { at: 1_700_000_000_000, rssBytes: 123 * 2 ** 20, heapUsedBytes: 1, heapTotalBytes: 2 };
  const floor = samples(await (await s.request('/metrics')).text());
  assert.equal(floor.get('cascade_rss_after_collection_bytes'), 123 * 2 ** 20);
  assert.equal(floor.get('cascade_last_collection_timestamp_seconds'), 1_700_000_000);

  // A node with a torrent counts it in its state.
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['one.bin', patternBytes(40_000, 3)]]) });
  assert.equal(up.status, 201);
  const after = samples(await (await s.request('/metrics')).text());
  assert.equal(after.get('cascade_torrents{state="seeding"}'), 1);
  assert.equal(after.get('cascade_http_requests_total{route="/api/torrents",method="POST",status="201"}'), 1);
});

test('a metrics token that is too short or has spaces stops the start with the rule', async () => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-metrics-token-'));
  try {
    for (const bad of ['short', 'has a space in it 0123456789', '']) {
      await assert.rejects(startServer({ ...testServerOptions(root), metricsToken: bad }), /metrics token must be 16 to 256 characters/);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('Prometheus scrapes two nodes swapping a torrent, and every Grafana panel query runs on it', { timeout: 90_000 }, async (t) => {
  // The seeder starts a DHT of its own; the leecher joins it (loopback only).
  const seeder = await startTestServer(t, { dht: { bootstrap: [] }, metricsToken: METRICS_TOKEN });
  const leecher = await startTestServer(t, { dht: { bootstrap: [`127.0.0.1:${dhtPortOf(seeder.node.session)}`] }, metricsToken: METRICS_TOKEN });
  const hostOf = (url: string) => new URL(url).host;
  const [S, L] = [hostOf(seeder.url), hostOf(leecher.url)];
  const prom = await startPrometheus(t, [
    { job: 'cascade', targets: [S, L], bearer: METRICS_TOKEN },
    { job: 'cascade-tracker', targets: [`127.0.0.1:${seeder.tracker!.httpPort}`] },
  ]);
  await prom.until('all three targets up', 'up', (r) => r.length === 3 && r.every((x) => x.value === 1));

  // Two files; the leecher wants the first only, so once done it still lacks pieces and stays
  // connected to the seeder (two complete peers would hang up): the peer gauges have a peer to show.
  const a = patternBytes(700 * 1024, 11);
  const b = patternBytes(300 * 1024, 12);
  const up = await seeder.json('/api/torrents', { method: 'POST', body: formWith([['pair/a.bin', a], ['pair/b.bin', b]]) });
  assert.equal(up.status, 201);
  const ih = up.body.infoHash as string;
  const torrentBytes = new Uint8Array(await (await seeder.request(`/api/torrents/${ih}/torrent`)).arrayBuffer());
  const meta = parseTorrent(torrentBytes);
  // No peer given: the leecher finds the seeder through the seeder's tracker.
  await leecher.node.add(torrentBytes, { savePath: leecher.downloadDir, selectedFiles: [0] });
  const h = leecher.node.session.get(ih)!;
  await until('the first file to arrive', () => h.stats().state === 'seeding');
  const verified = h.stats().verifiedPieces;
  assert.ok(verified > 0 && verified < meta.pieceCount, `${verified} of ${meta.pieceCount} pieces`);
  assert.equal((await leecher.request('/api/no-such-route')).status, 404);

  const one = (r: Sample[]) => (r.length === 1 ? r[0]!.value : NaN);
  const at = (name: string, instance: string, labels = '') => `${name}{job="cascade",instance="${instance}"${labels ? `,${labels}` : ''}}`;
  const q = (what: string, expr: string, ok: (v: number) => boolean) => prom.until(what, expr, (r) => ok(one(r)));

  // The nodes meet over TCP (the tracker's peer list) and WebRTC (its WebSocket side, host candidates
  // on loopback): the file's bytes came over one or both.
  await q('bytes received by the leecher', `sum(${at('cascade_bytes_total', L, 'direction="received",transport=~"tcp|webrtc"')})`, (v) => v >= a.length);
  await q('bytes sent by the seeder', `sum(${at('cascade_bytes_total', S, 'direction="sent",transport=~"tcp|webrtc"')})`, (v) => v >= a.length);
  await q('nothing from web seeds', `sum(cascade_bytes_total{transport="webseed"})`, (v) => v === 0);
  await q('as many bytes received as the engine says', `sum(${at('cascade_bytes_total', L, 'direction="received"')})`, (v) => v === h.stats().downloaded);
  await q('the leecher connected to the seeder', `sum(${at('cascade_peers', L)})`, (v) => v >= 1);
  await q('the seeder connected to the leecher', `sum(${at('cascade_peers', S)})`, (v) => v >= 1);
  await q('the leecher seeding its selection', at('cascade_torrents', L, 'state="seeding"'), (v) => v === 1);
  await q('the seeder seeding', at('cascade_torrents', S, 'state="seeding"'), (v) => v === 1);
  await q('every state on each node', `count(cascade_torrents{job="cascade",instance="${L}"})`, (v) => v === 7);
  await q('nothing downloading any more', `sum(cascade_torrents{state=~"downloading|error|checking"})`, (v) => v === 0);
  await q('the pieces the leecher verified', at('cascade_pieces_verified_total', L), (v) => v === verified);
  await q('no hash failure', 'sum(cascade_hash_failures_total)', (v) => v === 0);
  await q('no disk error', 'sum(cascade_disk_errors_total)', (v) => v === 0);
  await q('the leecher announced to the seeder’s tracker', at('cascade_announces_total', L, 'result="ok"'), (v) => v >= 1);
  await q('the seeder announced to its own tracker (in-process)', at('cascade_announces_total', S, 'result="ok"'), (v) => v >= 1);
  await q('the leecher knows a DHT node', at('cascade_dht_nodes', L), (v) => v >= 1);
  await q('the leecher sent DHT queries', `sum(${at('cascade_dht_queries_total', L, 'direction="out"')})`, (v) => v >= 1);
  await q('the seeder answered DHT queries', `sum(${at('cascade_dht_queries_total', S, 'direction="in"')})`, (v) => v >= 1);
  await q('the upload counted by route pattern', at('cascade_http_requests_total', S, 'route="/api/torrents",method="POST",status="201"'), (v) => v === 1);
  await q('the 404 counted as unmatched', at('cascade_http_requests_total', L, 'route="unmatched",status="404"'), (v) => v >= 1);
  await q('the scrapes counted', `sum(cascade_http_requests_total{route="/metrics",status="200"})`, (v) => v >= 2);
  await q('the tracker saw the leecher announce', 'sum(cascade_tracker_announces_total{job="cascade-tracker"})', (v) => v >= 1);
  await q('process memory', at('process_resident_memory_bytes', L), (v) => v > 10e6);
  await q('event-loop lag reported', at('nodejs_eventloop_lag_seconds', S), (v) => v >= 0 && v < 60);
  await q('CPU used', `rate(${at('process_cpu_seconds_total', L)}[1m])`, (v) => v > 0);
  // Every scrape so far succeeded, the first one (defaults just started) included.
  const everUp = await prom.query('min_over_time(up[5m])');
  assert.equal(everUp.length, 3);
  assert.ok(everUp.every((x) => x.value === 1), JSON.stringify(everUp));

  // The dashboard: every panel's query runs without error and finds series (a misspelt metric
  // name would run fine and find nothing). Grafana's variables become what this setup has.
  const targets = dashboardTargets();
  assert.ok(targets.length >= 20, `${targets.length} queries`);
  for (const { panel, expr } of targets) {
    const promql = grafanaExpr(expr, { job: 'cascade', tracker_job: 'cascade-tracker', instance: '.*' });
    const { httpStatus, body } = await prom.queryRaw(promql);
    assert.equal(body.status, 'success', `panel "${panel}": ${promql} → ${httpStatus} ${body.errorType}: ${body.error}`);
    await prom.until(`panel "${panel}" to show data`, promql, (r) => r.length > 0);
  }
  // Its query variables (Grafana's label_values(selector, label)) find values here too.
  for (const v of loadDashboard().templating.list.filter((x) => x.type === 'query')) {
    const m = /^label_values\((.+),\s*(\w+)\)$/.exec(String(v.query));
    assert.ok(m, `variable ${v.name}: ${String(v.query)}`);
    const selector = grafanaExpr(m[1]!, { job: 'cascade', tracker_job: 'cascade-tracker' });
    const found = await prom.query(`count by (${m[2]}) (${selector})`);
    assert.deepEqual(found.map((x) => x.metric[m[2]!]).sort(), [L, S].sort(), `variable ${v.name} lists both nodes`);
  }
});

/** What Prometheus' own linter (`promtool check metrics`) says, less prom-client's gauges named *_total. */
function lint(text: string): string[] {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run promtool (Debian package prometheus): ${r.error.message}`);
  return `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !/^nodejs_active_(handles|requests|resources)_total /.test(l));
}

function statusWithHost(base: string, path: string, host: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { headers: { host, authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

async function until(what: string, ok: () => boolean, ms = 45_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
