// Defect 2 (issue 20): the page must survive the node restarting. A real node serves the page; it is
// stopped (its socket.io server says goodbye to every client: "io server disconnect", which
// socket.io-client does not retry by itself) and started again on the same port and state. The page
// says it is reconnecting, comes back on its own, says so, and the list it shows is the node's
// current one (a torrent added after the restart shows up).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { startServer, type RunningServer } from '@cascade/http';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, rememberStateDir, REPO_ROOT, tempDir, until, type TestServer } from './helpers.ts';

before(async () => {
  await buildUi();
});

async function startNode(stateDir: string, httpPort: number): Promise<TestServer> {
  const downloadDir = join(stateDir, 'downloads');
  const server: RunningServer = await startServer({
    chain: false, // no embedded chain: not what this is about
    stateDir,
    downloadDir,
    httpPort,
    host: '127.0.0.1',
    btPort: 0,
    btHost: '127.0.0.1',
    dht: false,
    trackerPorts: { http: 0, udp: 0 },
  });
  await server.ready;
  rememberStateDir(server.url, stateDir);
  return { server, url: server.url, stateDir, downloadDir, bittorrentPort: server.node.session.port };
}

const A = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
const B = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';

test('the page reconnects by itself after the node restarts, says so and resyncs the list', async (t) => {
  const stateDir = await tempDir(t, 'reconnect-state', true);
  let node = await startNode(stateDir, 0);
  const port = node.server.httpPort;
  t.after(async () => {
    await node.server.close().catch(() => {});
    await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
  });
  const add = async (n: TestServer, hash: string, name: string) => {
    const res = await nodeFetch(n, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${hash}&dn=${name}` }) });
    assert.ok(res.ok, `add ${name}: ${res.status} ${await res.text()}`);
  };
  await add(node, A, 'before-restart');

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);
  await page.locator(`[data-testid="torrent-row"][data-infohash="${A}"]`).waitFor();
  await until('the live socket', () => page.locator('[data-testid="conn-status"].conn-ok').count(), 10_000);
  const banner = page.locator('[data-testid="connection-status"]');
  assert.equal(await banner.count(), 0, 'no banner while all is well');
  // A detail panel open across the restart shows its torrent's current state afterwards.
  await page.locator(`[data-testid="torrent-row"][data-infohash="${A}"] [data-testid="torrent-name"]`).click();
  const panel = page.locator('[data-testid="detail-panel"]');
  await panel.waitFor();

  await node.server.close();
  await until('the banner saying it reconnects', async () => /Reconnecting/i.test(await banner.innerText().catch(() => '')), 15_000);
  assert.equal(await page.locator('[data-testid="conn-status"].conn-ok').count(), 0, 'not shown as live while the node is down');
  assert.match(await page.locator('[data-testid="conn-status"]').innerText(), /Reconnecting/);

  // Down for a few seconds, longer than the first back-off steps.
  await new Promise((r) => setTimeout(r, 3000));
  node = await startNode(stateDir, port);
  await add(node, B, 'after-restart');

  await until('the banner saying it reconnected', async () => /Reconnected/i.test(await banner.innerText().catch(() => '')), 30_000);
  await until('live again', () => page.locator('[data-testid="conn-status"].conn-ok').count(), 5_000);
  await page.locator(`[data-testid="torrent-row"][data-infohash="${B}"]`).waitFor({ timeout: 10_000 });
  await page.locator(`[data-testid="torrent-row"][data-infohash="${A}"]`).waitFor({ timeout: 10_000 });
  const paused = await nodeFetch(node, `/api/torrents/${A}/pause`, { method: 'POST' });
  assert.ok(paused.ok, `pause: ${paused.status}`);
  await until('the open panel shows it paused', async () => (await panel.locator('[data-testid="torrent-state"]').first().getAttribute('data-state')) === 'paused', 10_000);
  await until('the banner goes away', async () => (await banner.count()) === 0, 15_000);

  // While the node was down, requests failed: those are expected. Nothing threw in the page.
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});

const CLI = join(REPO_ROOT, 'packages/cli/src/main.ts');

/** `cascade serve` as its own process (what people run); resolves with its URL once it serves. */
async function serve(stateDir: string, httpPort: number): Promise<{ child: ChildProcess; url: string }> {
  const args = ['serve', '--json', '--http-port', String(httpPort), '--port', '0', '--tracker-port', '0', '--no-dht', '--state-dir', stateDir, '--download-dir', join(stateDir, 'downloads')];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CASCADE_PORT_MAPPING: 'off' } });
  let out = '';
  let url = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const line of out.split('\n')) {
        try {
          const e = JSON.parse(line) as { event?: string; url?: string };
          if (e.event === 'listening' && e.url) url = e.url;
          if (e.event === 'serving' && url) resolve();
        } catch {}
      }
    });
    child.once('exit', (code) => reject(new Error(`cascade serve exited (${code}):\n${out.slice(-2000)}`)));
  });
  rememberStateDir(url, stateDir);
  return { child, url };
}

test('the page reconnects after `cascade serve` is killed with SIGKILL and started again', async (t) => {
  const stateDir = await tempDir(t, 'reconnect-kill', true);
  let node = await serve(stateDir, 0);
  t.after(async () => {
    node.child.kill('SIGKILL');
    await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
  });
  const port = Number(new URL(node.url).port);
  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);
  // Added from the page itself (its session cookie): the test has no API token of this process.
  const addFromPage = (hash: string) =>
    page.evaluate(async (h) => (await fetch('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${h}` }) })).status, hash);
  assert.ok([200, 201].includes(await addFromPage(A)));
  await page.locator(`[data-testid="torrent-row"][data-infohash="${A}"]`).waitFor();
  await until('the live socket', () => page.locator('[data-testid="conn-status"].conn-ok').count(), 10_000);

  node.child.kill('SIGKILL');
  await once(node.child, 'exit');
  const banner = page.locator('[data-testid="connection-status"]');
  await until('the banner saying it reconnects', async () => /Reconnecting/i.test(await banner.innerText().catch(() => '')), 15_000);

  await new Promise((r) => setTimeout(r, 2000));
  node = await serve(stateDir, port);
  await until('the banner saying it reconnected', async () => /Reconnected/i.test(await banner.innerText().catch(() => '')), 30_000);
  assert.ok([200, 201].includes(await addFromPage(B)));
  await page.locator(`[data-testid="torrent-row"][data-infohash="${B}"]`).waitFor({ timeout: 10_000 });
  await page.locator(`[data-testid="torrent-row"][data-infohash="${A}"]`).waitFor({ timeout: 10_000 });
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});
