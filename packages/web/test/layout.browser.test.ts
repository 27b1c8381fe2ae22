// Layout (issue 20, defect 11): every view at a laptop (1366×768), a desktop (1920×1080) and a phone
// (390×844), screenshotted (packages/web/test/screenshots/layout-*.png, not in git) and checked for
// horizontal scrolling; at 1366×768 with the detail panel open the table keeps its key columns
// (name, size, progress, state, down and up speed, ETA, the row's buttons) visible beside the panel,
// and the Network page's short stats (ports, labels, the page origin) stay on one line.
// The failing-first cases: before, the panel took 42% and the list hid everything but name, progress
// and download speed; "Listening port (TCP)" and "127.0.0.1:41479" broke over two lines.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildUi, collectErrors, launchBrowser, openAsOwner, screenshot, startTestServer } from './helpers.ts';
import { horizontalOverflow, memberViews, openView, overflowingElements, seedTorrents } from './a11y.ts';

before(async () => {
  await buildUi();
});

const SIZES = [
  { name: 'laptop', width: 1366, height: 768 },
  { name: 'desktop', width: 1920, height: 1080 },
  { name: 'phone', width: 390, height: 844 },
];

const KEY_COLUMNS = ['tt-name', 'tt-size', 'tt-progress', 'tt-state', 'tt-down', 'tt-up', 'tt-eta', 'tt-actions'];

/** Each key column's header box, or why it is not visible. */
async function columnBoxes(page: Page): Promise<Record<string, { left: number; right: number } | string>> {
  return page.evaluate((cols) => {
    const out: Record<string, { left: number; right: number } | string> = {};
    for (const c of cols) {
      const th = document.querySelector<HTMLElement>(`table.tt thead th.${c}`);
      if (!th) out[c] = 'missing';
      else if (getComputedStyle(th).display === 'none') out[c] = 'hidden';
      else {
        const r = th.getBoundingClientRect();
        out[c] = r.width < 20 ? `only ${r.width}px wide` : { left: r.left, right: r.right };
      }
    }
    return out;
  }, KEY_COLUMNS);
}

/** Stat labels and values short enough for one line (a port, "Listening port (TCP)", an origin)
 *  that take more than one. */
function wrappedStats(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.network-view .stat-label, .network-view .stat-value'))
      .filter((el) => (el.textContent ?? '').length <= 24)
      .filter((el) => el.getBoundingClientRect().height > parseFloat(getComputedStyle(el).lineHeight) * 1.5)
      .map((el) => el.textContent ?? ''),
  );
}

test('every view fits 1366×768, 1920×1080 and 390×844; the table keeps its key columns beside the detail panel', async (t) => {
  const node = await startTestServer(t);
  const context = await launchBrowser(t, { viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, node.url);
  const { seeding } = await seedTorrents(node, [
    'ubuntu-24.04.1-desktop-amd64.iso',
    'A very long folder name of a season of some television series 1080p WEB-DL x264.mkv',
    'holiday photos.zip',
  ]);

  const failures: string[] = [];
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    for (const v of await memberViews(page, seeding[0]!)) {
      await openView(page, node.url, v);
      await screenshot(page, `layout-${size.name}-${v.name}`);
      const over = await horizontalOverflow(page);
      if (over > 0) failures.push(`${v.name} at ${size.width}×${size.height} scrolls sideways by ${over} px: ${(await overflowingElements(page)).join(', ')}`);
      if (v.name === 'network') {
        const wrapped = await wrappedStats(page);
        if (wrapped.length > 0) failures.push(`network at ${size.width}×${size.height}: short stats wrap: ${wrapped.join(', ')}`);
      }
    }
  }

  await t.test('1366×768 with the detail panel open: key columns visible, none under the panel', async () => {
    await page.setViewportSize({ width: 1366, height: 768 });
    await openView(page, node.url, { name: 'detail', hash: `#/torrents/${seeding[0]}`, ready: '[data-testid="detail-panel"] [data-testid="file-row"]' });
    const panel = await page.locator('[data-testid="detail-panel"]').boundingBox();
    const table = await page.locator('table.tt').boundingBox();
    assert.ok(panel && table, 'panel and table are shown');
    assert.ok(table.x + table.width <= panel.x, `the table (right edge ${table.x + table.width}) ends before the panel (${panel.x})`);
    const boxes = await columnBoxes(page);
    for (const c of KEY_COLUMNS) {
      const b = boxes[c];
      assert.ok(typeof b === 'object', `column ${c} is visible beside the panel: ${String(b)}`);
      assert.ok(b.right <= panel.x + 0.5, `column ${c} (right ${b.right}) is not under the panel (${panel.x})`);
    }
    // The name keeps room to be read.
    const name = boxes['tt-name'] as { left: number; right: number };
    assert.ok(name.right - name.left >= 150, `the name column is ${name.right - name.left}px wide`);
  });

  await t.test('the bulk bar fits a phone and a laptop beside the panel', async () => {
    for (const size of [SIZES[2]!, SIZES[0]!]) {
      await page.setViewportSize({ width: size.width, height: size.height });
      const hash = size.name === 'phone' ? '#/torrents' : `#/torrents/${seeding[0]}`;
      await openView(page, node.url, { name: 'torrents', hash, ready: '[data-testid="torrent-row"]' });
      await page.locator('[data-testid="torrent-select"]').first().check();
      await page.locator('[data-testid="bulk-bar"]').waitFor();
      await screenshot(page, `layout-${size.name}-bulk`);
      assert.equal(await horizontalOverflow(page), 0, `${size.name}: ${(await overflowingElements(page)).join(', ')}`);
      const bar = await page.locator('[data-testid="bulk-bar"]').boundingBox();
      assert.ok(bar && bar.x >= 0 && bar.x + bar.width <= size.width, `${size.name}: the bar is on screen (${JSON.stringify(bar)})`);
      await page.locator('[data-testid="bulk-clear"]').click();
    }
  });

  await t.test("the detail panel's tabs fit at a laptop and a phone", async () => {
    for (const size of [SIZES[0]!, SIZES[2]!]) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await openView(page, node.url, { name: 'detail', hash: `#/torrents/${seeding[0]}`, ready: '[data-testid="detail-panel"] [data-testid^="detail-tab-"]' });
      const tabs = await page.locator('[data-testid^="detail-tab-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!));
      const strip = await page.locator('[data-testid="detail-panel"] .tabs').evaluate((el) => el.scrollWidth - el.clientWidth);
      assert.ok(strip <= 0, `every tab shows at ${size.width}×${size.height} (the strip scrolls by ${strip} px)`);
      for (const tab of tabs) {
        await page.locator(`[data-testid="${tab}"]`).click();
        await page.waitForTimeout(150);
        await screenshot(page, `layout-${size.name}-${tab}`);
        const over = await horizontalOverflow(page);
        assert.equal(over, 0, `${tab} at ${size.width}×${size.height} scrolls sideways by ${over} px: ${(await overflowingElements(page)).join(', ')}`);
      }
    }
  });

  await t.test('dark: the table, a selected row and the panel at a laptop and a phone (screenshots)', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    for (const size of [SIZES[0]!, SIZES[2]!]) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await openView(page, node.url, { name: 'torrents', hash: size.name === 'phone' ? '#/torrents' : `#/torrents/${seeding[0]}`, ready: '[data-testid="torrent-row"]' });
      await page.locator('[data-testid="torrent-select"]').nth(1).check();
      await screenshot(page, `layout-${size.name}-dark-torrents`);
      assert.equal(await horizontalOverflow(page), 0);
      await page.locator('[data-testid="bulk-clear"]').click();
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await t.test('1920×1080 shows every column of the table without the panel', async () => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await openView(page, node.url, { name: 'torrents', hash: '#/torrents', ready: '[data-testid="torrent-row"]' });
    const hidden = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('table.tt thead th')).filter((th) => getComputedStyle(th).display === 'none').map((th) => th.className));
    assert.deepEqual(hidden, [], 'no column hidden on a wide screen');
  });

  assert.deepEqual(failures, [], 'no view scrolls sideways');
  assert.deepEqual(errors, [], 'no errors in the page');
});
