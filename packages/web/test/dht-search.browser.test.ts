// Issue 15 in the web UI: three nodes in a DHT of loopback nodes only (B first, A and C bootstrapped
// to B). A shares a file; on C's Add page "Find on the network" finds it by a word of its name with
// A as publisher and provider; Add downloads it from A, and C's Files tab shows the file's content id.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { cidFromSha256 } from '@cascade/content';
import { buildUi, collectErrors, screenshot, launchBrowser, nodeFetch, nodeJson, openAsOwner, startTestServer, until } from './helpers.ts';

const HOST = '127.0.0.1';

before(async () => {
  await buildUi();
});

test('Find on the network: C finds what A shares through B, adds it, and shows its content id', { timeout: 180_000 }, async (t) => {
  // B bootstraps from a socket of ours that never answers: never the public routers.
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, HOST, r));
  t.after(() => silent.close());
  const b = await startTestServer(t, { dht: { bootstrap: [`${HOST}:${silent.address().port}`] } });
  const bDht = `${HOST}:${(await nodeJson<{ ports: { dht: number } }>(b, '/api/health')).ports.dht}`;
  const a = await startTestServer(t, { dht: { bootstrap: [bDht] } });
  const c = await startTestServer(t, { dht: { bootstrap: [bDht] } });

  const data = randomBytes(200_000);
  const cid = cidFromSha256(createHash('sha256').update(data).digest());
  const form = new FormData();
  form.append('file', new Blob([data]), 'Glacier Calving Footage.bin');
  const up = await nodeFetch(a, '/api/torrents', { method: 'POST', body: form });
  assert.equal(up.status, 201, await up.clone().text());
  const { infoHash } = (await up.json()) as { infoHash: string };
  const aDid = (await nodeJson<{ did: string }>(a, '/api/identity')).did;
  assert.match(aDid, /^did:key:z6Mk/);

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${c.url}/#/add`);
  const result = page.locator('[data-testid="dht-search-result"]');
  await until('C to find the file on the DHT', async () => {
    await page.locator('[data-testid="dht-search-input"]').fill('glacier footage');
    await page.locator('[data-testid="dht-search-submit"]').click();
    await page.locator('[data-testid="dht-search-result"], [data-testid="dht-search-none"]').first().waitFor({ timeout: 10_000 });
    return (await result.count()) > 0;
  }, 60_000, 500);
  const text = await result.first().innerText();
  assert.match(text, /Glacier Calving Footage\.bin/);
  assert.ok(text.includes(`${HOST}:${a.bittorrentPort}`), `A is the provider: ${text}`);
  assert.ok(text.includes(cid), text);
  assert.ok(text.includes(aDid.slice(-6)), `A is the publisher: ${text}`);
  await result.first().scrollIntoViewIfNeeded();
  await screenshot(page, 'dht-search');

  await result.first().locator('[data-testid="dht-search-add"]').click();
  await page.waitForURL(new RegExp(`#/torrents/${infoHash}`), { timeout: 20_000 });
  await until('C to download it from A', async () => (await nodeJson<{ progress: number }>(c, `/api/torrents/${infoHash}`)).progress >= 1, 60_000);
  await page.locator('[data-testid="detail-tab-files"]').click();
  const shown = page.locator('[data-testid="file-cid"]');
  await shown.waitFor({ timeout: 20_000 });
  assert.equal((await shown.innerText()).trim(), cid);
  assert.deepEqual(errors, []);
});
