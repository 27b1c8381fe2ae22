// A tab that relays for others (issue 14), in real Chromium inside a loopback-only namespace. One
// browser (the node's owner) switches on "Relay for others" on the Network page; another
// browser, a visitor, downloads a node's seed with private discovery. Only two node relays exist (both exits),
// so every 3-hop circuit of the downloading page has the relaying tab as its first hop, reached
// over a WebRTC data channel whose offer and answer crossed a node relay sealed. The WebSocket
// tracker (behind a recording proxy) hears from the seeding node and exits only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { generateIdentity } from '@cascade/identity';
import { offersOf, recordingWsProxy } from '@cascade/onion/test/recording-proxy';
import { startTracker } from '@cascade/tracker';
import { startNodeRelay } from '@cascade/node-network/onion';
import { silentLog } from '@cascade/node';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, screenshot, selectedPairs, signInWithKey, startTestServer, until } from './helpers.ts';

before(async () => {
  await buildUi();
});

const RELAYS = ['127.0.0.11', '127.0.0.12'];

test('a page downloads through a circuit whose first hop is another browser tab relaying for others', { timeout: 180_000 }, async (t) => {
  const dirTracker = await startTracker({ host: '127.0.0.22', interval: 60 });
  t.after(() => dirTracker.close());
  const directory = `http://127.0.0.22:${dirTracker.httpPort}`;
  const relays = await Promise.all(
    RELAYS.map((host) => startNodeRelay({ identity: generateIdentity(host), host, port: 0, directories: [directory], exit: true, dhtBootstrap: [] }, silentLog)),
  );
  t.after(() => Promise.all(relays.map((r) => r.close())));

  const wsTracker = await startTracker({ host: '127.0.0.23', interval: 60, ws: true });
  t.after(() => wsTracker.close());
  const { url: wsUrl, seen } = await recordingWsProxy(t, '127.0.0.24', wsTracker.wsAnnounceUrl!);

  const node = await startTestServer(t, { btHost: '127.0.0.2', iceServers: [], trackers: [wsUrl], onion: { directories: [directory] } });
  const content = new Uint8Array(1_500_000).map((_, i) => (i * 13 + 5) & 0xff);
  const fd = new FormData();
  fd.append('file', new Blob([content]), 'notes.bin');
  const up = await nodeFetch(node, '/api/torrents', { method: 'POST', body: fd });
  assert.equal(up.status, 201, await up.clone().text());
  const { infoHash } = (await up.json()) as { infoHash: string };
  await until('the node announced to the WebSocket tracker', async () => seen.some((s) => s.from === '127.0.0.2'), 30_000);

  // The relaying browser, on the Network page.
  const relayContext = await launchBrowser(t);
  const relayPage = await relayContext.newPage();
  const relayErrors = collectErrors(relayPage);
  await openAsOwner(relayPage, node.url);
  await relayPage.goto(`${node.url}/#/network`);
  // The node's own private discovery has a card of its own (not raw JSON under More).
  await relayPage.locator('[data-testid="onion-card"]').waitFor({ timeout: 20_000 });
  assert.match((await relayPage.locator('[data-testid="onion-relays"]').textContent()) ?? '', /^\d+ listed, \d+ from peers$/);
  const relaySwitch = relayPage.locator('[data-testid="tab-relay-switch"]');
  await relaySwitch.waitFor({ timeout: 20_000 });
  await relaySwitch.check();
  const status = relayPage.locator('[data-testid="tab-relay-status"]');
  await relayPage.locator('[data-testid="tab-relay-status"][data-registered="true"]').waitFor({ timeout: 20_000 });
  const listed = (await (await fetch(`${directory}/relays`)).json()) as { relays: { rtc?: string; exit: unknown }[] };
  assert.equal(listed.relays.filter((r) => r.rtc).length, 1, 'the directory lists the tab');
  assert.equal(listed.relays.find((r) => r.rtc)!.exit, null);

  // The downloading browser.
  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await signInWithKey(page, `${node.url}/#/add`);
  await page.goto(`${node.url}/#/add`);
  await page.locator('[data-testid="add-target-browser"]').click();
  const hide = page.locator('[data-testid="add-browser-private-discovery"]');
  await hide.waitFor({ timeout: 20_000 });
  await hide.check();
  await page.locator('[data-testid="add-uri-input"]').fill(`magnet:?xt=urn:btih:${infoHash}&tr=${encodeURIComponent(wsUrl)}`);
  await page.locator('[data-testid="add-uri-submit"]').click();
  const row = page.locator(`[data-testid="browser-torrent-row"][data-infohash="${infoHash}"]`);
  await row.waitFor({ timeout: 15_000 });
  await until('the download in the page', async () => Number(await row.getAttribute('data-progress')) >= 1, 90_000, 250).catch(async (err) => {
    console.log('on failure: seen', JSON.stringify(seen.map((x) => ({ from: x.from, n: x.messages.length }))));
    console.log('on failure: tab relay', await status.getAttribute('data-circuits'), await status.getAttribute('data-cells'));
    console.log('on failure: errors', JSON.stringify({ errors, relayErrors }));
    throw err;
  });
  const [download] = await Promise.all([page.waitForEvent('download'), row.locator('[data-testid="browser-save"]').click()]);
  assert.ok(Buffer.from(await readFile(await download.path())).equals(Buffer.from(content)), 'the bytes match');

  // The tab carried the circuits: two node relays alone cannot make a 3-hop path.
  await until('the relay tab shows its circuit', async () => Number(await status.getAttribute('data-circuits')) >= 1 || Number(await status.getAttribute('data-cells')) > 0, 10_000);
  assert.ok(Number(await status.getAttribute('data-cells')) > 0, 'the tab relayed cells');
  await relayPage.locator('[data-testid="tab-relay-card"]').scrollIntoViewIfNeeded();
  await screenshot(relayPage, 'tab-relay');
  // Every WebRTC connection either page made (the link to the tab, the data peer) stayed on loopback.
  for (const p of [...(await selectedPairs(page)), ...(await selectedPairs(relayPage))]) {
    assert.equal(p.local, '127.0.0.1');
    if (p.remote) assert.match(p.remote, /^127\./, 'a pair off loopback');
  }

  const froms = new Set(seen.map((s) => s.from));
  assert.ok(!froms.has('127.0.0.1'), `the tracker saw a page: ${[...froms]}`);
  assert.ok([...froms].some((f) => RELAYS.includes(f)), `no exit reached the tracker: ${[...froms]}`);
  for (const sdp of offersOf(seen.filter((s) => RELAYS.includes(s.from)))) {
    assert.ok(!/a=candidate/.test(sdp) && !/\b127\.0\.0\.1\b/.test(sdp), 'an offer through the exit carries an address');
  }

  // Switched off: the tab leaves the signalling node, and says so.
  await relaySwitch.uncheck();
  await status.waitFor({ state: 'detached', timeout: 5000 });
  await until('the node relay dropped the tab', async () => relays.every((r) => (r.signal?.tabs ?? 0) === 0), 10_000);
  assert.deepEqual(errors, [], 'no errors in the downloading page');
  assert.deepEqual(relayErrors, [], 'no errors in the relaying page');
});
