// The bulk bar in real Chromium against a real node (issue 20, "select many ... for
// pause/resume/remove/recheck/set category", and tags, queue moves, force start): each action on
// the selected torrents is one POST /api/torrents/bulk naming exactly them, and the node does it to
// them and no other.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Request } from 'playwright-core';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, startTestServer, until } from './helpers.ts';
import { seedTorrents } from './a11y.ts';

before(async () => {
  await buildUi();
});

const row = (page: Page, hash: string) => page.locator(`[data-testid="torrent-row"][data-infohash="${hash}"]`);
const stateOf = (page: Page, hash: string) => row(page, hash).getAttribute('data-state');

test('bulk bar: pause, resume, recheck, set category, tags, queue, force start and remove the selected torrents, one request each', async (t) => {
  const node = await startTestServer(t);
  const context = await launchBrowser(t, { viewport: { width: 1600, height: 900 } });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);
  const names = ['alpha.bin', 'beta.bin', 'gamma.bin'];
  const { seeding } = await seedTorrents(node, names);
  const [a, b, c] = seeding as [string, string, string];
  await until('three seeding', async () => (await page.locator('[data-testid="torrent-row"][data-state="seeding"]').count()) === 3, 20_000);
  const res = await nodeFetch(node, '/api/categories', { method: 'POST', body: JSON.stringify({ name: 'linux' }) });
  assert.ok(res.ok, `POST /api/categories: ${res.status}`);

  const bulkRequests: Request[] = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/torrents/bulk')) bulkRequests.push(r);
  });
  /** Clicks, then returns the one bulk request it made (its JSON body). */
  const oneRequest = async (act: () => Promise<void>): Promise<Record<string, unknown>> => {
    const before = bulkRequests.length;
    await act();
    await until('the bulk request answered', async () => bulkRequests.length > before && (await bulkRequests.at(-1)!.response()) !== null, 15_000);
    await page.waitForTimeout(300);
    assert.equal(bulkRequests.length, before + 1, 'one request for all the selected torrents');
    const r = bulkRequests.at(-1)!;
    assert.equal(r.method(), 'POST');
    assert.equal((await r.response())!.status(), 200);
    return r.postDataJSON() as Record<string, unknown>;
  };

  // Select alpha and gamma (ctrl-click on a cell), leave beta alone.
  await row(page, a).locator('[data-testid="torrent-select"]').click();
  await row(page, c).locator('td.tt-size').click({ modifiers: ['Control'] });
  assert.match(await page.locator('[data-testid="bulk-count"]').innerText(), /^2 selected/);

  await t.test('pause', async () => {
    const body = await oneRequest(() => page.locator('[data-testid="bulk-pause"]').click());
    assert.equal(body.action, 'pause');
    assert.deepEqual([...(body.infoHashes as string[])].sort(), [a, c].sort());
    await until('both paused', async () => (await stateOf(page, a)) === 'paused' && (await stateOf(page, c)) === 'paused', 10_000);
    assert.equal(await stateOf(page, b), 'seeding', 'the unselected one is untouched');
    assert.match(await page.locator('[data-testid="bulk-message"]').innerText(), /Pause: 2 torrents done/);
  });

  await t.test('resume', async () => {
    const body = await oneRequest(() => page.locator('[data-testid="bulk-resume"]').click());
    assert.equal(body.action, 'resume');
    await until('both seeding again', async () => (await stateOf(page, a)) === 'seeding' && (await stateOf(page, c)) === 'seeding', 15_000);
  });

  await t.test('recheck', async () => {
    const body = await oneRequest(() => page.locator('[data-testid="bulk-recheck"]').click());
    assert.equal(body.action, 'recheck');
    assert.deepEqual([...(body.infoHashes as string[])].sort(), [a, c].sort());
    // The data is intact: back to seeding after the check.
    await until('seeding after the check', async () => (await stateOf(page, a)) === 'seeding' && (await stateOf(page, c)) === 'seeding', 20_000);
  });

  await t.test('set category', async () => {
    await until('the category offered', async () => (await page.locator('[data-testid="bulk-category"] option').allInnerTexts()).includes('linux'), 5_000);
    const body = await oneRequest(() => page.locator('[data-testid="bulk-category"]').selectOption('linux').then(() => {}));
    assert.equal(body.action, 'setCategory');
    assert.equal(body.category, 'linux');
    await until('the category column', async () => (await row(page, a).locator('td.tt-category').innerText()) === 'linux' && (await row(page, c).locator('td.tt-category').innerText()) === 'linux', 10_000);
    assert.equal(await row(page, b).locator('td.tt-category').innerText(), '');
  });

  await t.test('tags: add, then remove one', async () => {
    const body = await oneRequest(() => page.locator('[data-testid="bulk-tags"]').fill('iso, lts').then(() => page.locator('[data-testid="bulk-add-tags"]').click()));
    assert.equal(body.action, 'addTags');
    assert.deepEqual(body.tags, ['iso', 'lts']);
    await until('the tags column', async () => (await row(page, c).locator('td.tt-tags .tag').allInnerTexts()).join(',') === 'iso,lts', 10_000);
    assert.equal(await page.locator('[data-testid="bulk-tags"]').inputValue(), '', 'the box empties once done');
    const removed = await oneRequest(() => page.locator('[data-testid="bulk-tags"]').fill('lts').then(() => page.locator('[data-testid="bulk-remove-tags"]').click()));
    assert.equal(removed.action, 'removeTags');
    await until('one tag left', async () => (await row(page, a).locator('td.tt-tags .tag').allInnerTexts()).join(',') === 'iso', 10_000);
    assert.deepEqual(await row(page, b).locator('td.tt-tags .tag').allInnerTexts(), []);
  });

  await t.test('queue move and force start are one request each', async () => {
    const moved = await oneRequest(() => page.locator('[data-testid="bulk-queue"]').selectOption('top').then(() => {}));
    assert.equal(moved.action, 'queue');
    assert.equal(moved.move, 'top');
    const forced = await oneRequest(() => page.locator('[data-testid="bulk-force-start"]').click());
    assert.equal(forced.action, 'forceStart');
    assert.equal(forced.forceStart, true);
    assert.doesNotMatch(await page.locator('[data-testid="bulk-message"]').innerText(), /failed/);
  });

  await t.test('remove with the data', async () => {
    await page.locator('[data-testid="bulk-remove"]').click();
    await page.getByRole('dialog', { name: 'Remove 2 torrents?' }).waitFor();
    await page.locator('[data-testid="bulk-remove-delete-data"]').check();
    const body = await oneRequest(() => page.locator('[data-testid="bulk-remove-confirm"]').click());
    assert.equal(body.action, 'remove');
    assert.equal(body.deleteData, true);
    await row(page, a).waitFor({ state: 'detached' });
    await row(page, c).waitFor({ state: 'detached' });
    await page.locator('[data-testid="bulk-bar"]').waitFor({ state: 'detached' });
    assert.equal(await stateOf(page, b), 'seeding');
    assert.equal(existsSync(join(node.downloadDir, 'alpha.bin')), false, 'alpha.bin deleted');
    assert.equal(existsSync(join(node.downloadDir, 'gamma.bin')), false, 'gamma.bin deleted');
    assert.equal(existsSync(join(node.downloadDir, 'beta.bin')), true, 'beta.bin kept');
  });

  await t.test('an errored torrent’s row offers Resume (not Pause), and Resume retries it', async () => {
    // The engine's own failure path, as a disk error takes it (issue 44 item 8).
    const torrent = node.server.node.session.get(b) as unknown as { fail(message: string): void };
    torrent.fail('disk error: planted by the test');
    await until('the error shown', async () => (await stateOf(page, b)) === 'error', 10_000);
    assert.equal(await row(page, b).locator('[data-testid="pause"]').count(), 0, 'no Pause on an errored torrent');
    await row(page, b).locator('[data-testid="resume"]').click();
    await until('seeding again', async () => (await stateOf(page, b)) === 'seeding', 15_000);
  });

  assert.deepEqual(errors, [], 'no errors in the page');
});
