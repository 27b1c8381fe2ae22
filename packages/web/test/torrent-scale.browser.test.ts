// A thousand torrents in real Chromium against a real node (issue 25, "the UI renders what is in
// view"): the list keeps fewer than 500 rows in the page at its top, middle and bottom, scrolls to
// the last torrent, filters by `torrent-search`, orders by `sort-name` and `sort-size`, "select all"
// pauses all thousand through exactly one POST /api/torrents/bulk, and a change made through the API
// (the live feed's `torrents:changes`, or the full list from older nodes) shows in the page.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Page, Request } from 'playwright-core';
import { bencode } from '@cascade/engine';
import { buildUi, collectErrors, launchBrowser, nodeFetch, nodeJson, openAsOwner, startTestServer, until, type TestServer } from './helpers.ts';

before(async () => {
  await buildUi();
});

const COUNT = 1000;
const rows = (page: Page) => page.locator('[data-testid="torrent-row"]');
const nameOf = (i: number) => `scale-${String(i).padStart(4, '0')}.bin`;
/** Sizes in a different order from the names (7919 is prime to 1000: every size differs). */
const sizeOf = (i: number) => (((i * 7919) % COUNT) + 1) * 1000;

/** A one-file, one-piece .torrent of `length` bytes nobody has: added, it checks nothing on disk and
 *  waits for peers (no tracker, DHT off) — cheap to have a thousand of. */
function tinyTorrent(name: string, length: number): { bytes: Uint8Array; infoHash: string } {
  const info = { length, name, 'piece length': 1 << 20, pieces: randomBytes(20) };
  const infoBytes = bencode(info);
  return { bytes: bencode({ info }), infoHash: createHash('sha1').update(infoBytes).digest('hex') };
}

async function addTorrents(node: TestServer): Promise<Map<number, string>> {
  const hashes = new Map<number, string>();
  const add = async (i: number) => {
    const { bytes, infoHash } = tinyTorrent(nameOf(i), sizeOf(i));
    const form = new FormData();
    form.append('torrent', new Blob([Buffer.from(bytes)], { type: 'application/x-bittorrent' }), `${i}.torrent`);
    const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: form });
    assert.ok(res.ok, `add ${i}: ${res.status} ${await res.text()}`);
    hashes.set(i, infoHash);
  };
  // Eight at a time, in an order unlike the names', so neither the node's order nor the sizes match them.
  const order = Array.from({ length: COUNT }, (_, i) => (i * 389) % COUNT);
  for (let k = 0; k < COUNT; k += 8) await Promise.all(order.slice(k, k + 8).map(add));
  return hashes;
}

/** Scrolls the page to `fraction` of its height and waits until the rows drawn settle. */
async function scrollTo(page: Page, fraction: number): Promise<void> {
  await page.evaluate((f) => window.scrollTo(0, (document.documentElement.scrollHeight - window.innerHeight) * f), fraction);
  let last = '';
  await until(
    'the rows to settle after a scroll',
    async () => {
      const now = await page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="torrent-row"]')).map((r) => r.getAttribute('aria-rowindex')).join());
      const same = now === last;
      last = now;
      return same && now !== '';
    },
    5_000,
    150,
  );
}

/** aria-rowindex of the rows in the page (the header is 1, the first torrent 2). */
const drawnIndexes = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll('[data-testid="torrent-row"]')).map((r) => Number(r.getAttribute('aria-rowindex'))));

test(`${COUNT} torrents: a virtualized list that searches, sorts, selects all and follows the feed`, async (t) => {
  const node = await startTestServer(t);
  const context = await launchBrowser(t, { viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);
  const hashes = await addTorrents(node);
  const grid = page.getByRole('grid', { name: 'Torrents on this node' });
  await until(`${COUNT} torrents listed`, async () => (await grid.getAttribute('aria-rowcount')) === String(COUNT + 1), 60_000);

  await t.test('fewer than 500 rows in the page at the top, the middle and the bottom; the last torrent reachable', async () => {
    for (const [where, fraction] of [['top', 0], ['middle', 0.5], ['bottom', 1]] as const) {
      await scrollTo(page, fraction);
      const drawn = await drawnIndexes(page);
      assert.ok(drawn.length > 0 && drawn.length < 500, `${where}: ${drawn.length} rows in the page`);
      // The rows drawn are those in view: around the scroll position, in order, without gaps.
      const expected = Math.round(2 + fraction * (COUNT - 1));
      assert.ok(drawn[0]! <= expected && drawn.at(-1)! >= expected, `${where}: rows ${drawn[0]}..${drawn.at(-1)} include about row ${expected}`);
      assert.deepEqual(drawn, drawn.map((_, k) => drawn[0]! + k), `${where}: consecutive rows`);
    }
    // Sorted by name (the default): the last row is the last name, and it is on screen.
    const last = page.locator(`[data-testid="torrent-row"][aria-rowindex="${COUNT + 1}"]`);
    assert.equal(await last.locator('[data-testid="torrent-name"]').innerText(), nameOf(COUNT - 1));
    assert.ok(await last.isVisible());
    const box = await last.boundingBox();
    assert.ok(box && box.y + box.height <= 900 + 1, `the last row is within the window (${JSON.stringify(box)})`);
    await scrollTo(page, 0);
  });

  await t.test('as cards on a phone: still a window of rows, the last one reachable', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const fraction of [0, 0.5, 1]) {
        await scrollTo(page, fraction);
        const drawn = await drawnIndexes(page);
        assert.ok(drawn.length > 0 && drawn.length < 500, `at ${fraction}: ${drawn.length} rows in the page`);
      }
      const last = page.locator(`[data-testid="torrent-row"][aria-rowindex="${COUNT + 1}"]`);
      assert.equal(await last.locator('[data-testid="torrent-name"]').innerText(), nameOf(COUNT - 1));
      const box = await last.boundingBox();
      assert.ok(box && box.y >= 0 && box.y < 844, `the last card is on screen (${JSON.stringify(box)})`);
    } finally {
      await page.setViewportSize({ width: 1366, height: 900 });
      await scrollTo(page, 0);
    }
  });

  await t.test('torrent-search filters the whole list, not only the rows drawn', async () => {
    const search = page.locator('[data-testid="torrent-search"]');
    await search.fill(nameOf(777));
    await until('one row', async () => (await grid.getAttribute('aria-rowcount')) === '2', 5_000);
    assert.deepEqual(await rows(page).locator('[data-testid="torrent-name"]').allInnerTexts(), [nameOf(777)]);
    // A prefix matching a hundred torrents: all counted, fewer drawn than matched is allowed.
    await search.fill('scale-09');
    await until('a hundred rows', async () => (await grid.getAttribute('aria-rowcount')) === '101', 5_000);
    assert.equal(await rows(page).first().locator('[data-testid="torrent-name"]').innerText(), nameOf(900));
    await search.fill('');
    await until('all rows back', async () => (await grid.getAttribute('aria-rowcount')) === String(COUNT + 1), 5_000);
  });

  await t.test('sort-size and sort-name order the whole list', async () => {
    const firstName = () => rows(page).first().locator('[data-testid="torrent-name"]').innerText();
    const biggest = Array.from({ length: COUNT }, (_, i) => i).sort((a, b) => sizeOf(b) - sizeOf(a));
    await page.locator('[data-testid="sort-size"]').click();
    await until('biggest first', async () => (await firstName()) === nameOf(biggest[0]!), 5_000);
    const top = await rows(page).locator('[data-testid="torrent-name"]').allInnerTexts();
    assert.deepEqual(top.slice(0, 10), biggest.slice(0, 10).map(nameOf), 'the ten biggest, in order');
    await page.locator('[data-testid="sort-size"]').click();
    await until('smallest first', async () => (await firstName()) === nameOf(biggest.at(-1)!), 5_000);
    await scrollTo(page, 1);
    assert.equal(await page.locator(`[data-testid="torrent-row"][aria-rowindex="${COUNT + 1}"] [data-testid="torrent-name"]`).innerText(), nameOf(biggest[0]!), 'the biggest last');
    await scrollTo(page, 0);
    await page.locator('[data-testid="sort-name"]').click();
    await until('by name', async () => (await firstName()) === nameOf(0), 5_000);
    assert.deepEqual((await rows(page).locator('[data-testid="torrent-name"]').allInnerTexts()).slice(0, 10), Array.from({ length: 10 }, (_, i) => nameOf(i)));
  });

  await t.test('a torrent paused through the API shows paused in the page', async () => {
    const hash = hashes.get(3)!;
    const row = page.locator(`[data-testid="torrent-row"][data-infohash="${hash}"]`);
    assert.notEqual(await row.getAttribute('data-state'), 'paused');
    const res = await nodeFetch(node, `/api/torrents/${hash}/pause`, { method: 'POST' });
    assert.ok(res.ok, `pause: ${res.status}`);
    await until('the row paused', async () => (await row.getAttribute('data-state')) === 'paused', 5_000);
  });

  await t.test('select-all then pause: one bulk request, and all of them paused', async () => {
    const bulk: Request[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/torrents/bulk')) bulk.push(r);
    });
    await page.locator('[data-testid="select-all"]').check();
    assert.match(await page.locator('[data-testid="bulk-count"]').innerText(), new RegExp(`^${COUNT} selected`));
    await page.locator('[data-testid="bulk-pause"]').click();
    await until('the bulk request answered', async () => bulk.length > 0 && (await bulk[0]!.response()) !== null, 30_000);
    const body = bulk[0]!.postDataJSON() as { action: string; infoHashes: string[] | 'all' };
    assert.equal(body.action, 'pause');
    if (body.infoHashes !== 'all') assert.deepEqual([...body.infoHashes].sort(), [...hashes.values()].sort(), 'every torrent named, not only the rows drawn');
    assert.equal((await bulk[0]!.response())!.status(), 200);
    const { torrents } = await nodeJson<{ torrents: { infoHash: string; state: string }[] }>(node, '/api/torrents');
    assert.equal(torrents.length, COUNT);
    assert.deepEqual(torrents.filter((x) => x.state !== 'paused').map((x) => x.infoHash), [], 'all paused');
    await until('the page shows them paused', async () => (await rows(page).first().getAttribute('data-state')) === 'paused' && (await rows(page).last().getAttribute('data-state')) === 'paused', 5_000);
    await page.waitForTimeout(500);
    assert.equal(bulk.length, 1, 'exactly one bulk request');
  });

  assert.deepEqual(errors.filter((e) => !e.includes('/api/categories')), [], 'no errors in the page');
});
