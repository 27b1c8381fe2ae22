// Commands load what they run (issue 64 item 4): a `cascade download` of a public torrent, to its
// end, loads none of the cluster's, private shares', the market's, content ids', RSS's, chat's, the
// assistant's or the HTTP server's code, nor the chain's client (viem): each is imported where it
// is used, and such a download uses none of them. An idle `serve` has not loaded socket.io,
// prom-client, Swagger, @fastify/static, ws or Ajv, each loaded by its first use. Counted by module
// URL, not timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tempDir } from './helpers.ts';
import { cascadeHere, startServe } from './node-process.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const HOOK = join(import.meta.dirname, 'loaded-modules.ts');

/** What a public torrent's download must not load: a package's folder, or an npm package. */
const NOT_LOADED: [string, RegExp][] = [
  ['the cluster', /\/packages\/cluster\//],
  ['private shares', /\/packages\/private-(shares|node)\//],
  ['the market', /\/packages\/market\//],
  ['content ids', /\/packages\/content(-node)?\//],
  ['multiformats (CIDs)', /\/node_modules\/multiformats\//],
  ['RSS', /\/packages\/rss\//],
  ['chat', /\/packages\/chat\//],
  ['the assistant', /\/packages\/(node-)?assistant\//],
  ['the HTTP server', /\/packages\/http\/|\/node_modules\/fastify\//],
  ['the chain client', /\/packages\/chain\/|\/node_modules\/viem\//],
];

test('cascade download of a public torrent loads no cluster, private-share, market or content-id code', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'file.bin'), randomBytes(100_000));
  const torrent = join(dir, 'file.torrent');
  assert.equal((await cascadeHere(['create', join(data, 'file.bin'), '-o', torrent, '--json'])).code, 0);
  // Its data already in the output folder: the download checks it and is done, with no peer to
  // wait for, through the same start, add and finish as any download (default options: receipts on).
  const list = join(dir, 'modules.txt');
  const child = spawn(process.execPath, ['--import', HOOK, MAIN, 'download', torrent, '-o', data, '--port', '0', '--no-dht', '--json', '--state-dir', join(dir, 'state')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home', CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off', CASCADE_TEST_LOADED_MODULES: list },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, `download exited ${code}: ${stderr}`);
  assert.match(stdout, /"event":"done"/);

  const urls = readFileSync(list, 'utf8').split('\n').filter(Boolean);
  // The hook saw the download's own modules (the engine's among them): an empty list proves nothing.
  assert.ok(urls.some((u) => u.includes('/packages/engine/')), `the engine among ${urls.length} modules`);
  for (const [what, pattern] of NOT_LOADED) {
    const found = urls.filter((u) => pattern.test(u));
    assert.deepEqual(found, [], `a public download loaded ${what}`);
  }
});

/** What an idle `serve` must not have loaded: each loads at its first use (issue 64 item 4). */
const SERVE_LAZY: [string, RegExp][] = [
  ['socket.io (the live feed)', /\/node_modules\/(socket\.io|engine\.io|socket\.io-parser|socket\.io-adapter)\//],
  ['prom-client and OpenTelemetry (metrics)', /\/node_modules\/(prom-client|@opentelemetry\/api)\/|\/packages\/http\/src\/metrics\/collectors\.ts$/],
  ['Swagger and yaml (the API docs)', /\/node_modules\/(@fastify\/swagger|@fastify\/swagger-ui|yaml|json-schema-resolver)\//],
  // (Fastify's own error serializer loads fast-json-stringify's runtime, lib/serializer.js, not its compiler.)
  ['ws (the tracker\'s WebSocket announces)', /\/node_modules\/ws\//],
  ['@fastify/static (the web app\'s files)', /\/node_modules\/(@fastify\/static|@fastify\/send|glob)\//],
  ['Ajv and fast-json-stringify (the routes\' schemas)', /\/node_modules\/(ajv|@fastify\/ajv-compiler|@fastify\/fast-json-stringify-compiler)\/|\/node_modules\/fast-json-stringify\/index\.js$/],
];

/** The module URLs the serve has loaded so far (loaded-modules.ts writes them at SIGUSR2). */
async function loadedBy(pid: number, list: string): Promise<string[]> {
  rmSync(list, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200 && !existsSync(list); i++) await new Promise((r) => setTimeout(r, 25));
  return readFileSync(list, 'utf8').split('\n').filter(Boolean);
}

test('an idle cascade serve has not loaded socket.io, prom-client, Swagger, @fastify/static, ws or Ajv; each loads and works at its first use', { timeout: 120_000 }, async (t) => {
  const list = join(tempDir(t), 'modules.txt');
  // The serve under the hook: sh puts the preload in front and execs the node (child.pid is the node's).
  const script = `export CASCADE_TEST_LOADED_MODULES='${list}'; exec "$0" --import '${HOOK}' "$@"`;
  const node = await startServe(t, { wrap: ['sh', '-c', script] });
  const idle = await loadedBy(node.child.pid!, list);
  assert.ok(idle.some((u) => u.includes('/node_modules/fastify/')), `the HTTP server among ${idle.length} modules`);
  for (const [what, pattern] of SERVE_LAZY) assert.deepEqual(idle.filter((u) => pattern.test(u)), [], `an idle serve loaded ${what}`);

  // A request before the first scrape is counted all the same (its response schema compiled by it).
  assert.equal((await node.api('/api/torrents')).status, 200);
  const metrics = await node.api('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(await metrics.text(), /^cascade_http_requests_total\{route="\/api\/torrents",method="GET",status="200"\} 1$/m);

  // The feed: socket.io's handshake (engine.io long-polling), the namespace joined, the list sent on connect.
  const auth = { authorization: `Bearer ${node.token}` };
  const polling = `${node.url}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(polling, { headers: auth })).text();
  const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
  assert.equal((await fetch(`${polling}&sid=${sid}`, { method: 'POST', headers: auth, body: '40' })).status, 200);
  let received = '';
  for (let i = 0; i < 5 && !received.includes('42["torrents"'); i++) received += await (await fetch(`${polling}&sid=${sid}`, { headers: auth })).text();
  assert.match(received, /42\["torrents",\{"torrents":\[\]\}\]/);

  // The API docs: the OpenAPI document of every route, and Swagger UI.
  const doc = (await (await fetch(`${node.url}/api/docs/json`)).json()) as { paths: Record<string, unknown> };
  assert.ok(doc.paths['/api/torrents'], 'the document lists the API routes');
  const ui = await fetch(`${node.url}/api/docs`);
  assert.equal(ui.status, 200);
  assert.match(await ui.text(), /swagger-ui/i);

  // The web app (serve builds it when it is missing).
  const page = await fetch(`${node.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  await page.arrayBuffer();

  // The tracker takes a WebTorrent client's WebSocket.
  const socket = new WebSocket(`ws://127.0.0.1:${node.trackerHttpPort}/announce`);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error('the tracker refused the WebSocket'));
  });
  socket.close();

  // Each loaded by its use (the patterns above name real modules).
  const used = await loadedBy(node.child.pid!, list);
  for (const [what, pattern] of SERVE_LAZY) assert.ok(used.some((u) => pattern.test(u)), `${what} loaded once used`);
  await node.stop();
});
