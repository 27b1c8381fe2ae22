// Private discovery from a browser tab (issue 14), in real Chromium inside a loopback-only
// namespace: a page with nothing installed builds its own 3-hop circuits over WebSocket to node
// relays (127.0.0.11-13), reaches the WebSocket tracker only through a tunnel at the exit (its
// offers stripped of addresses), finds the node's seed there and downloads it over WebRTC. A
// recording proxy in front of the tracker shows who connected and what they sent: the seeding node
// (127.0.0.2) and exits, never the page (127.0.0.1), and no address in the page's offers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { generateIdentity } from '@cascade/identity';
import { offersOf, recordingWsProxy } from '@cascade/onion/test/recording-proxy';
import { startTracker } from '@cascade/tracker';
import { startNodeRelay } from '@cascade/node-network/onion';
import { silentLog } from '@cascade/node';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, screenshot, startTestServer, until } from './helpers.ts';

before(async () => {
  await buildUi();
});

const RELAYS = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];

test('a page finds a seed through onion circuits and downloads it over WebRTC; the tracker never sees the page', { timeout: 180_000 }, async (t) => {
  const dirTracker = await startTracker({ host: '127.0.0.22', interval: 60 });
  t.after(() => dirTracker.close());
  const directory = `http://127.0.0.22:${dirTracker.httpPort}`;
  const relays = await Promise.all(
    RELAYS.map((host) => startNodeRelay({ identity: generateIdentity(host), host, port: 0, directories: [directory], exit: true, dhtBootstrap: [] }, silentLog)),
  );
  t.after(() => Promise.all(relays.map((r) => r.close())));

  // The WebSocket tracker, behind a proxy that records every connection and message.
  const wsTracker = await startTracker({ host: '127.0.0.23', interval: 60, ws: true });
  t.after(() => wsTracker.close());
  const { url: wsUrl, seen } = await recordingWsProxy(t, '127.0.0.24', wsTracker.wsAnnounceUrl!);

  // The node seeds from 127.0.0.2 (its WebSocket and ICE too) and lists the directory for pages.
  const node = await startTestServer(t, { btHost: '127.0.0.2', iceServers: [], trackers: [wsUrl], onion: { directories: [directory] } });
  const content = new Uint8Array(2_000_000).map((_, i) => (i * 7 + 3) & 0xff);
  const fd = new FormData();
  fd.append('file', new Blob([content]), 'lecture.bin');
  const up = await nodeFetch(node, '/api/torrents', { method: 'POST', body: fd });
  assert.equal(up.status, 201, await up.clone().text());
  const { infoHash } = (await up.json()) as { infoHash: string };
  await until('the node announced to the WebSocket tracker', async () => seen.some((s) => s.from === '127.0.0.2'), 30_000);

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/add`);
  await page.locator('[data-testid="add-target-browser"]').click();
  const hide = page.locator('[data-testid="add-browser-private-discovery"]');
  await hide.waitFor({ timeout: 20_000 });
  await hide.check();
  await page.locator('[data-testid="add-uri-input"]').fill(`magnet:?xt=urn:btih:${infoHash}&tr=${encodeURIComponent(wsUrl)}`);
  await page.locator('[data-testid="add-uri-submit"]').click();
  await page.waitForURL(/#\/torrents$/);
  const row = page.locator(`[data-testid="browser-torrent-row"][data-infohash="${infoHash}"]`);
  await row.waitFor({ timeout: 15_000 });
  await until('the download in the page', async () => Number(await row.getAttribute('data-progress')) >= 1, 60_000, 250).catch((err) => {
    console.log('on failure: seen', JSON.stringify(seen.map((x) => ({ from: x.from, n: x.messages.length, actions: x.messages.map((m) => `${m.action}${m.offers ? `:${m.offers.length}` : ''}${m.answer ? ':answer' : ''}`) }))));
    console.log('on failure: relays', JSON.stringify(relays.map((r) => r.core.stats)));
    console.log('on failure: errors', JSON.stringify(errors));
    throw err;
  });
  await screenshot(page, 'private-discovery-tab');
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid="browser-save"]').click()]);
  assert.ok(Buffer.from(await readFile(await download.path())).equals(Buffer.from(content)), 'the bytes match');

  const froms = new Set(seen.map((s) => s.from));
  assert.ok(!froms.has('127.0.0.1'), `the tracker saw the page: ${[...froms]}`);
  assert.ok([...froms].some((f) => RELAYS.includes(f)), `no exit reached the tracker: ${[...froms]}`);
  const offers = offersOf(seen.filter((s) => RELAYS.includes(s.from)));
  assert.ok(offers.length > 0, 'the page sent offers through an exit');
  for (const sdp of offers) {
    assert.ok(!/a=candidate/.test(sdp), 'an offer carries a candidate');
    assert.ok(!/\b127\.0\.0\.1\b|\.local\b/.test(sdp), 'an offer carries an address');
  }
  assert.deepEqual(errors, [], 'no errors in the page');
});
