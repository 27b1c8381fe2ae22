// The torrent table in real Chromium against a real node (issue 20, "Organise"; defect 10): a grid
// with named row buttons, sortable headers with aria-sort (remembered over a reload), the state filter
// and the search, selection by checkbox, shift-click range, ctrl-click and select-all, the keyboard
// (arrows, Space, Enter, shift+arrow, Home/End, Escape), the remove dialog, and a list of 300
// torrents of which only those near the window are in the page.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, startTestServer, until } from './helpers.ts';
import { seedTorrents } from './a11y.ts';

before(async () => {
  await buildUi();
});

const rows = (page: Page) => page.locator('[data-testid="torrent-row"]');
const rowNames = (page: Page) => page.locator('[data-testid="torrent-row"] [data-testid="torrent-name"]').allInnerTexts();
const selectedCount = (page: Page) => page.locator('[data-testid="torrent-row"][aria-selected="true"]').count();
const focusedHash = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.infohash ?? null);

test('torrent table: names, sorting, filters, search, selection and keyboard', async (t) => {
  const node = await startTestServer(t);
  const context = await launchBrowser(t, { viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);
  // Sizes grow with the order given: 64 KiB, 68 KiB, 72 KiB.
  const { seeding, magnet } = await seedTorrents(node, ['ubuntu.iso', 'holiday photos.zip', 'big-archive.tar']);
  await until('four rows', async () => (await rows(page).count()) === 4, 15_000);
  await until('three seeding', async () => (await page.locator('[data-testid="torrent-row"][data-state="seeding"]').count()) === 3, 15_000);

  await t.test('a grid whose row buttons say which torrent they act on', async () => {
    const grid = page.getByRole('grid', { name: 'Torrents on this node' });
    assert.equal(await grid.getAttribute('aria-rowcount'), '5');
    await page.getByRole('button', { name: 'Pause ubuntu.iso' }).waitFor();
    await page.getByRole('button', { name: 'Remove holiday photos.zip' }).waitFor();
    await page.getByRole('checkbox', { name: 'Select big-archive.tar' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Pause', exact: true }).count(), 0, 'no button is named just "Pause"');
    assert.equal(await page.getByRole('columnheader', { name: /Name/ }).getAttribute('aria-sort'), 'ascending');
  });

  await t.test('sorting by a header, both ways, remembered over a reload', async () => {
    assert.deepEqual(await rowNames(page), ['big-archive.tar', 'holiday photos.zip', 'ubuntu.iso', 'waiting-for-peers']);
    await page.locator('[data-testid="sort-size"]').click();
    const sizeHeader = page.locator('th:has([data-testid="sort-size"])');
    assert.equal(await sizeHeader.getAttribute('aria-sort'), 'descending');
    assert.equal(await page.locator('th:has([data-testid="sort-name"])').getAttribute('aria-sort'), 'none');
    // Biggest first; the magnet without metadata has no size: last.
    assert.deepEqual(await rowNames(page), ['big-archive.tar', 'holiday photos.zip', 'ubuntu.iso', 'waiting-for-peers']);
    await page.locator('[data-testid="sort-size"]').click();
    assert.equal(await sizeHeader.getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await rowNames(page), ['ubuntu.iso', 'holiday photos.zip', 'big-archive.tar', 'waiting-for-peers']);
    await page.reload();
    await rows(page).first().waitFor();
    assert.equal(await page.locator('th:has([data-testid="sort-size"])').getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await rowNames(page), ['ubuntu.iso', 'holiday photos.zip', 'big-archive.tar', 'waiting-for-peers']);
    await page.locator('[data-testid="sort-state"]').click();
    assert.deepEqual((await rowNames(page))[0], 'waiting-for-peers', 'state order: metadata before seeding');
    await page.locator('[data-testid="sort-name"]').click();
    assert.deepEqual(await rowNames(page), ['big-archive.tar', 'holiday photos.zip', 'ubuntu.iso', 'waiting-for-peers']);
  });

  await t.test('state filter and search', async () => {
    await page.locator('[data-testid="filter-state"]').selectOption('completed');
    assert.deepEqual(await rowNames(page), ['big-archive.tar', 'holiday photos.zip', 'ubuntu.iso']);
    await page.locator('[data-testid="filter-state"]').selectOption('metadata');
    assert.deepEqual(await rowNames(page), ['waiting-for-peers']);
    await page.locator('[data-testid="filter-state"]').selectOption('queued');
    await page.locator('[data-testid="filters-clear"]').waitFor();
    // The menus are remembered over a reload (the search box is not).
    await page.locator('[data-testid="torrent-search"]').fill('x');
    await page.reload();
    await page.locator('[data-testid="filters-clear"]').waitFor();
    assert.equal(await page.locator('[data-testid="filter-state"]').inputValue(), 'queued');
    assert.equal(await page.locator('[data-testid="torrent-search"]').inputValue(), '');
    await page.locator('[data-testid="filter-state"]').selectOption('all');
    await page.locator('[data-testid="torrent-search"]').fill('HOLIDAY');
    assert.deepEqual(await rowNames(page), ['holiday photos.zip']);
    // A status region tells screen readers how many rows the filters leave.
    assert.equal(await page.getByRole('status').filter({ hasText: 'torrents shown' }).innerText(), '1 of 4 torrents shown');
    await page.locator('[data-testid="torrent-search"]').fill(magnet.slice(0, 12));
    assert.deepEqual(await rowNames(page), ['waiting-for-peers']);
    await page.locator('[data-testid="torrent-search"]').fill('');
    assert.equal(await rows(page).count(), 4);
  });

  await t.test('select by checkbox, shift-click a range, ctrl-click one out, select all', async () => {
    const check = (i: number) => rows(page).nth(i).locator('[data-testid="torrent-select"]');
    await check(0).click();
    assert.equal(await selectedCount(page), 1);
    assert.match(await page.locator('[data-testid="bulk-count"]').innerText(), /^1 selected/);
    await check(2).click({ modifiers: ['Shift'] });
    assert.equal(await selectedCount(page), 3);
    // ctrl-click on a cell (not the name link) toggles that row without opening it.
    await rows(page).nth(1).locator('td.tt-size').click({ modifiers: ['Control'] });
    assert.equal(await selectedCount(page), 2);
    assert.equal(await rows(page).nth(1).getAttribute('aria-selected'), 'false');
    assert.doesNotMatch(page.url(), /#\/torrents\/[0-9a-f]{40}/, 'ctrl-click does not open the detail');
    // shift-click on a row: the range from the anchor (row 1, the last toggled) to row 3.
    await rows(page).nth(3).locator('td.tt-size').click({ modifiers: ['Shift'] });
    assert.deepEqual(await rows(page).evaluateAll((els) => els.map((e) => e.getAttribute('aria-selected'))), ['false', 'true', 'true', 'true']);
    // The bar's "Select all" (for phones, where the header with its checkbox is hidden).
    await page.locator('[data-testid="bulk-select-all"]').click();
    assert.equal(await selectedCount(page), 4);
    await page.locator('[data-testid="bulk-select-all"]').waitFor({ state: 'detached' });
    assert.equal(await page.locator('[data-testid="select-all"]').isChecked(), true);
    await page.locator('[data-testid="select-all"]').uncheck();
    assert.equal(await selectedCount(page), 0);
    await page.locator('[data-testid="select-all"]').check();
    assert.equal(await selectedCount(page), 4);
    await page.locator('[data-testid="select-all"]').uncheck();
    assert.equal(await selectedCount(page), 0);
    await page.locator('[data-testid="bulk-bar"]').waitFor({ state: 'detached' });
    // A filter drops what it hides from the selection.
    await page.locator('[data-testid="select-all"]').check();
    await page.locator('[data-testid="filter-state"]').selectOption('metadata');
    assert.match(await page.locator('[data-testid="bulk-count"]').innerText(), /^1 selected/);
    await page.locator('[data-testid="filter-state"]').selectOption('all');
    await page.locator('[data-testid="bulk-clear"]').click();
    assert.equal(await selectedCount(page), 0);
  });

  await t.test('keyboard: arrows move, Space selects, shift+arrow extends, Enter opens, Escape clears', async () => {
    const hashes = await rows(page).evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.infohash!));
    // One row is in the tab order (the last one used); the others are reached with the arrows.
    const tabStops = () => rows(page).evaluateAll((els) => els.map((e) => (e as HTMLElement).tabIndex));
    assert.deepEqual((await tabStops()).filter((i) => i === 0).length, 1);
    await rows(page).first().focus();
    await until('the focused row is the tab stop', async () => (await tabStops())[0] === 0, 2_000, 50);
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedHash(page), hashes[1]);
    await page.keyboard.press('Space');
    assert.equal(await rows(page).nth(1).getAttribute('aria-selected'), 'true');
    await page.keyboard.press('Shift+ArrowDown');
    assert.equal(await focusedHash(page), hashes[2]);
    assert.equal(await selectedCount(page), 2);
    await page.keyboard.press('End');
    assert.equal(await focusedHash(page), hashes[3]);
    await page.keyboard.press('Home');
    assert.equal(await focusedHash(page), hashes[0]);
    await page.keyboard.press('ArrowUp');
    assert.equal(await focusedHash(page), hashes[0], 'stays on the first row');
    await page.keyboard.press('Escape');
    assert.equal(await selectedCount(page), 0);
    await page.keyboard.press('Control+a');
    assert.equal(await selectedCount(page), 4);
    await page.keyboard.press('Escape');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/torrents/${hashes[1]}$`));
    await page.locator('[data-testid="detail-panel"]').waitFor();
    assert.equal(await rows(page).nth(1).evaluate((e) => e.classList.contains('open')), true);
    assert.equal(await selectedCount(page), 0, 'opening is not selecting');
    await page.locator('[data-testid="detail-close"]').click();
    await until('the focus back on the row', async () => (await focusedHash(page)) === hashes[1], 3_000, 50);
  });

  await t.test('remove asks in a dialog that Escape closes; Delete on a row asks too', async () => {
    const row = page.locator(`[data-testid="torrent-row"][data-infohash="${seeding[1]}"]`);
    await row.focus();
    await page.keyboard.press('Delete');
    const ask = page.getByRole('dialog', { name: 'Remove 1 torrent?' });
    await ask.waitFor();
    assert.equal(await row.getAttribute('aria-selected'), 'true', 'Delete with nothing selected takes the focused row');
    await page.keyboard.press('Escape');
    await ask.waitFor({ state: 'detached' });
    await page.locator('[data-testid="bulk-clear"]').click();
    await row.locator('[data-testid="remove"]').click();
    const dialog = page.getByRole('dialog', { name: 'Remove “holiday photos.zip”?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await rows(page).count(), 4);
    await row.locator('[data-testid="remove"]').click();
    await row.locator('[data-testid="remove-confirm"]').click();
    await row.waitFor({ state: 'detached' });
    assert.equal(await rows(page).count(), 3);
  });

  await t.test('300 torrents: only the rows near the window are drawn; End reaches the last', async () => {
    const add = async (i: number) => {
      const hash = randomBytes(20).toString('hex');
      const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${hash}&dn=bulk-${String(i).padStart(3, '0')}` }) });
      assert.equal(res.status < 300, true, `add ${i}: ${res.status}`);
    };
    for (let i = 0; i < 300; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => add(i + k)));
    await until('303 torrents listed', async () => (await page.getByRole('grid').getAttribute('aria-rowcount')) === '304', 30_000);
    const drawn = await rows(page).count();
    assert.ok(drawn < 120, `only ${drawn} of 303 rows in the page`);
    await rows(page).first().focus();
    await page.keyboard.press('End');
    await until('the last row focused', async () => (await page.evaluate(() => (document.activeElement as HTMLElement | null)?.getAttribute('aria-rowindex'))) === '304', 5_000);
    assert.equal(await page.evaluate(() => document.activeElement?.querySelector('[data-testid="torrent-name"]')?.textContent), 'waiting-for-peers');
    await page.keyboard.press('Home');
    await until('the first row focused', async () => (await page.evaluate(() => (document.activeElement as HTMLElement | null)?.getAttribute('aria-rowindex'))) === '2', 5_000);
    await page.locator('[data-testid="select-all"]').check();
    assert.match(await page.locator('[data-testid="bulk-count"]').innerText(), /^303 selected/);
  });

  assert.deepEqual(errors.filter((e) => !e.includes('/api/categories')), [], 'no errors in the page');
});
