// Defect 5 (issue 20): the detail panel of a torrent removed elsewhere (another client, the API, the
// CLI) closes by itself, without a 404 or an error in the page; a bookmark of a torrent that is
// gone says so instead of throwing, and stops saying so once the torrent is added again;
// detail-close closes the panel by hand.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, startTestServer, until } from './helpers.ts';

before(async () => {
  await buildUi();
});

const A = 'd5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5';
const B = 'e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6';

test('the detail panel of a torrent removed elsewhere closes, with no error in the page', async (t) => {
  const node = await startTestServer(t);
  for (const [hash, name] of [[A, 'going-away'], [B, 'staying']] as const) {
    const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${hash}&dn=${name}` }) });
    assert.ok(res.ok, `${res.status} ${await res.text()}`);
  }
  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/torrents`);
  const errors = collectErrors(page);
  const panel = page.locator('[data-testid="detail-panel"]');

  await t.test('removed by another client while open: the panel closes', async () => {
    await page.locator(`[data-testid="torrent-row"][data-infohash="${A}"] [data-testid="torrent-name"]`).click();
    await panel.waitFor();
    await page.waitForURL(new RegExp(`#/torrents/${A}$`));
    // Let the panel settle on its live feed first.
    await until('the panel shows its torrent', async () => (await panel.locator('h2').innerText()) === 'going-away', 10_000);
    const res = await nodeFetch(node, `/api/torrents/${A}`, { method: 'DELETE' });
    assert.ok(res.ok, `remove: ${res.status}`);
    await panel.waitFor({ state: 'detached', timeout: 10_000 });
    await page.waitForURL(/#\/torrents$/);
    await page.locator(`[data-testid="torrent-row"][data-infohash="${A}"]`).waitFor({ state: 'detached' });
    await page.locator(`[data-testid="torrent-row"][data-infohash="${B}"]`).waitFor();
    // Give a late poll or push the chance to fail loudly.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(errors, [], 'no 404, console error or page error');
  });

  await t.test('detail-close closes it by hand', async () => {
    await page.locator(`[data-testid="torrent-row"][data-infohash="${B}"] [data-testid="torrent-name"]`).click();
    await panel.waitFor();
    await panel.locator('[data-testid="detail-close"]').click();
    await panel.waitFor({ state: 'detached' });
    await page.waitForURL(/#\/torrents$/);
  });

  await t.test('a bookmark of a torrent that is gone says so and can be closed; nothing throws', async () => {
    await page.goto(`${node.url}/#/torrents/${A}`);
    await panel.locator('[data-testid="detail-gone"]').waitFor({ timeout: 10_000 });
    // Added again (from another client) while its panel says it is gone: the notice goes, the panel
    // shows it. Before, the notice stayed above a torrent that was there.
    const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${A}&dn=back-again` }) });
    assert.ok(res.ok, `${res.status} ${await res.text()}`);
    await until('the panel shows the torrent again', async () => (await panel.locator('h2').innerText()) === 'back-again', 10_000);
    await panel.locator('[data-testid="detail-gone"]').waitFor({ state: 'detached', timeout: 10_000 });
    await panel.locator('[data-testid="detail-close"]').click();
    await panel.waitFor({ state: 'detached' });
    assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
  });
});
