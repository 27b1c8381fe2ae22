// The torrent table's category, tag and tracker filters and columns in real Chromium, against a
// real node whose torrents got their category and tags through PATCH /api/torrents/:infoHash
// (issue 20, "Organise"): options with counts and "none", combined filters, the search finding
// categories and tags, sorting by category; and with maxActiveDownloads 1, the queued downloads
// shown "Queued" with their queue positions (issue 20, queueing).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, startTestServer, until, type TestServer } from './helpers.ts';
import { seedTorrents } from './a11y.ts';

before(async () => {
  await buildUi();
});

const rowNames = (page: Page) => page.locator('[data-testid="torrent-row"] [data-testid="torrent-name"]').allInnerTexts();
const optionTexts = (page: Page, testId: string) => page.locator(`[data-testid="${testId}"] option`).allInnerTexts();

async function call(node: TestServer, method: string, path: string, body: unknown): Promise<void> {
  const res = await nodeFetch(node, path, { method, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

test('category, tag and tracker filters over what the node says of each torrent', async (t) => {
  const node = await startTestServer(t);
  const context = await launchBrowser(t, { viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);
  const { seeding } = await seedTorrents(node, ['ubuntu.iso', 'debian.iso', 'holiday photos.zip']);
  const [ubuntu, debian, holiday] = seeding as [string, string, string];
  await call(node, 'POST', '/api/categories', { name: 'linux' });
  await call(node, 'POST', '/api/categories', { name: 'photos' });
  await call(node, 'PATCH', `/api/torrents/${ubuntu}`, { category: 'linux', tags: ['iso', 'lts'] });
  await call(node, 'PATCH', `/api/torrents/${debian}`, { category: 'linux', tags: ['iso'] });
  await call(node, 'PATCH', `/api/torrents/${holiday}`, { category: 'photos', tags: ['family'] });
  await until('the categories in the table', async () => (await page.locator('td.tt-category').allInnerTexts()).filter((c) => c).length === 3, 15_000);

  await t.test('category and tags columns show what the node says', async () => {
    const row = page.locator(`[data-testid="torrent-row"][data-infohash="${ubuntu}"]`);
    assert.equal(await row.locator('td.tt-category').innerText(), 'linux');
    assert.deepEqual(await row.locator('td.tt-tags .tag').allInnerTexts(), ['iso', 'lts']);
    assert.notEqual(await row.locator('td.tt-added').innerText(), '—', 'the added date shows');
  });

  await t.test('filter options list each value with its count, and "none"', async () => {
    assert.deepEqual(await optionTexts(page, 'filter-category'), ['All categories', 'linux (2)', 'photos (1)', 'No category (1)']);
    assert.deepEqual(await optionTexts(page, 'filter-tag'), ['All tags', 'family (1)', 'iso (2)', 'lts (1)', 'No tags (1)']);
    // Every torrent, magnet included, gets the node's own tracker (one behaviour whatever the door).
    assert.deepEqual(await optionTexts(page, 'filter-tracker'), ['All trackers', '127.0.0.1 (4)', 'No tracker (0)']);
  });

  await t.test('filters narrow the rows and combine', async () => {
    await page.locator('[data-testid="filter-category"]').selectOption('linux');
    assert.deepEqual(await rowNames(page), ['debian.iso', 'ubuntu.iso']);
    await page.locator('[data-testid="filter-tag"]').selectOption('lts');
    assert.deepEqual(await rowNames(page), ['ubuntu.iso']);
    await page.locator('[data-testid="filter-tag"]').selectOption('');
    await page.locator('[data-testid="filter-category"]').selectOption(':none');
    assert.deepEqual(await rowNames(page), ['waiting-for-peers']);
    await page.locator('[data-testid="filter-category"]').selectOption('');
    await page.locator('[data-testid="filter-tracker"]').selectOption(':none');
    assert.deepEqual(await rowNames(page), []);
    await page.locator('[data-testid="filters-clear"]').click();
    assert.equal(await page.locator('[data-testid="filter-tracker"]').inputValue(), '');
    await page.locator('[data-testid="filter-tracker"]').selectOption('127.0.0.1');
    assert.deepEqual(await rowNames(page), ['debian.iso', 'holiday photos.zip', 'ubuntu.iso', 'waiting-for-peers']);
    await page.locator('[data-testid="filter-tracker"]').selectOption('');
    await page.locator('[data-testid="torrent-search"]').fill('family');
    assert.deepEqual(await rowNames(page), ['holiday photos.zip']);
    await page.locator('[data-testid="torrent-search"]').fill('');
    assert.equal((await rowNames(page)).length, 4);
  });

  await t.test('sort by category: A→Z, none last', async () => {
    await page.locator('[data-testid="sort-category"]').click();
    const cats = await page.locator('td.tt-category').allInnerTexts();
    assert.deepEqual(cats, ['linux', 'linux', 'photos', '']);
    await page.locator('[data-testid="sort-category"]').click();
    assert.deepEqual(await page.locator('td.tt-category').allInnerTexts(), ['photos', 'linux', 'linux', '']);
  });

  await t.test('queued downloads: "Queued" state, queue positions, the queued filter', async () => {
    const res = await nodeFetch(node, '/api/settings', { method: 'PATCH', body: JSON.stringify({ maxActiveDownloads: 1 }) });
    assert.equal(res.status, 200);
    for (const [i, name] of ['first-in-line', 'second-in-line'].entries()) {
      await call(node, 'POST', '/api/torrents', { uri: `magnet:?xt=urn:btih:${String(i + 1).repeat(40)}&dn=${name}` });
    }
    await page.locator('[data-testid="filter-state"]').selectOption('queued');
    await until('two queued', async () => (await rowNames(page)).length === 2, 15_000);
    assert.deepEqual(await page.locator('[data-testid="torrent-row"] [data-testid="torrent-state"]').allInnerTexts(), ['Queued', 'Queued']);
    await page.locator('[data-testid="filter-state"]').selectOption('all');
    await page.locator('[data-testid="sort-queuePosition"]').click();
    const positions = (await page.locator('td.tt-queue').allInnerTexts()).filter((p) => p !== '');
    assert.deepEqual(positions, ['1', '2', '3'], 'the three downloads in queue order, seeds without a place');
    assert.deepEqual((await rowNames(page)).slice(0, 3), ['waiting-for-peers', 'first-in-line', 'second-in-line']);
  });

  assert.deepEqual(errors, [], 'no errors in the page');
});
