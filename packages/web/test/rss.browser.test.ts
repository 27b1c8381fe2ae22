// The RSS page in real Chromium against a real node and a real feed server on 127.0.0.1: add a feed
// in the page, see its items; write a rule, watch the live preview follow (a bad regex shows the
// node's message naming the field), save it, and see the match taken — the torrent in the node with
// the rule's category and save path. A failing feed shows why.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildUi, tempDir, collectErrors, launchBrowser, nodeJson, openAsOwner, screenshot, startTestServer, until } from './helpers.ts';
import { startFeedServer, magnetOf } from '../../rss/test/feed-server.ts';

before(async () => {
  await buildUi();
});

test('RSS page: a feed and a rule added in the page, the match taken', async (t) => {
  const feeds = await startFeedServer(t);
  const e1 = await feeds.torrentFor('Show.S01E01.1080p');
  feeds.rss = [
    { title: 'Show.S01E02.720p', torrent: magnetOf('e2'.repeat(20), 'Show.S01E02.720p') },
    { title: 'Other.Thing.1080p', torrent: magnetOf('f3'.repeat(20), 'Other') },
    { title: 'Show.S01E01.1080p', torrent: 'Show.S01E01.1080p' },
  ];
  const node = await startTestServer(t, { allowPrivateUrls: true });
  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/rss`);
  const errors = collectErrors(page);
  await page.locator('[data-testid="nav-rss"]').waitFor();
  await page.locator('[data-testid="rss-page"]').waitFor();

  await page.locator('[data-testid="rss-feed-url"]').fill(`${feeds.url}/rss.xml`);
  await page.locator('[data-testid="rss-add-feed"]').click();
  const row = page.locator('[data-testid="rss-feed-row"]').first();
  await row.locator('[data-testid="rss-feed-status"][data-state="ok"]').waitFor({ timeout: 15_000 });
  await until('the counts', async () => (await row.locator('[data-testid="rss-feed-counts"]').innerText()) === '3 items, 3 unread', 10_000);
  assert.match(await row.innerText(), /Test RSS feed/);
  await until('three items', async () => (await page.locator('[data-testid="rss-item-row"]').count()) === 3, 10_000);

  await page.locator('[data-testid="rss-rule-new"]').click();
  const editor = page.locator('[data-testid="rss-rule-editor"]');
  await editor.waitFor();
  await editor.locator('[data-testid="rss-rule-name"]').fill('Show in HD');
  await editor.locator('[data-testid="rss-rule-must-contain"]').fill('show');
  const previewTitles = async () => (await editor.locator('[data-testid="rss-rule-preview-item"]').allInnerTexts()).sort().join(' | ');
  await until('the preview of "show"', async () => (await previewTitles()) === 'Show.S01E01.1080p | Show.S01E02.720p', 10_000);
  // A broken regular expression: the node's message, naming the field, in place of the preview.
  await editor.locator('[data-testid="rss-rule-regex"]').check();
  await editor.locator('[data-testid="rss-rule-must-contain"]').fill('show(');
  const previewError = editor.locator('[data-testid="rss-rule-preview-error"]');
  await previewError.waitFor({ timeout: 10_000 });
  assert.match(await previewError.innerText(), /mustContain: invalid regular expression/);
  await editor.locator('[data-testid="rss-rule-regex"]').uncheck();
  await editor.locator('[data-testid="rss-rule-must-contain"]').fill('show 1080p');
  await until('the preview of "show 1080p"', async () => (await previewTitles()) === 'Show.S01E01.1080p', 10_000);
  await editor.locator('[data-testid="rss-rule-episode"]').fill('S01E01-');
  await editor.locator('[data-testid="rss-rule-category"]').fill('tv');
  const savePath = join(await tempDir(t, 'rss-tv'), 'tv');
  await editor.locator('[data-testid="rss-rule-save-path"]').fill(savePath);
  await editor.locator('[data-testid="rss-rule-tags"]').fill('rss, hd');
  await screenshot(page, 'rss-rule-editor');
  await editor.locator('[data-testid="rss-rule-save"]').click();
  await editor.waitFor({ state: 'detached' });
  await page.locator('[data-testid="rss-rule-row"]').filter({ hasText: 'Show in HD' }).waitFor();

  const match = page.locator(`[data-testid="rss-match-row"][data-infohash="${e1.infoHash}"]`);
  await match.waitFor({ timeout: 15_000 }).catch(async (err: unknown) => {
    const state = { matches: await nodeJson(node, '/api/rss/matches'), rules: await nodeJson(node, '/api/rss/rules') };
    throw new Error(`no match row: ${JSON.stringify(state)}`, { cause: err });
  });
  assert.match(await match.innerText(), /Show in HD\s+Show\.S01E01\.1080p/);
  await until('the item marked taken', async () => (await page.locator('[data-testid="rss-item-match"]').allInnerTexts()).join() === 'Taken by Show in HD', 10_000);
  const detail = await nodeJson<{ savePath: string; category: string | null; tags: string[] }>(node, `/api/torrents/${e1.infoHash}`);
  assert.equal(detail.savePath, savePath);
  assert.equal(detail.category, 'tv');
  assert.deepEqual(detail.tags, ['rss', 'hd']);
  const list = await nodeJson<{ torrents: { infoHash: string }[] }>(node, '/api/torrents');
  assert.deepEqual(list.torrents.map((x) => x.infoHash), [e1.infoHash]);

  // Edit the rule: the editor opens with its fields and its own preview (now "taken"); disable it.
  const ruleRow = page.locator('[data-testid="rss-rule-row"]').filter({ hasText: 'Show in HD' });
  await ruleRow.locator('[data-testid="rss-rule-edit"]').click();
  assert.equal(await editor.locator('[data-testid="rss-rule-must-contain"]').inputValue(), 'show 1080p');
  await until('the preview marks it taken', async () => (await previewTitles()) === 'Show.S01E01.1080p (taken)', 10_000);
  await editor.locator('[data-testid="rss-rule-must-not-contain"]').fill('cam');
  await editor.locator('[data-testid="rss-rule-save"]').click();
  await editor.waitFor({ state: 'detached' });
  await until('the edit saved', async () => (await nodeJson<{ rules: { mustNotContain: string }[] }>(node, '/api/rss/rules')).rules[0]!.mustNotContain === 'cam', 10_000);
  await ruleRow.locator('[data-testid="rss-rule-enabled"]').uncheck();
  await until('the rule disabled', async () => (await nodeJson<{ rules: { enabled: boolean }[] }>(node, '/api/rss/rules')).rules[0]!.enabled === false, 10_000);
  assert.equal(await ruleRow.locator('[data-testid="rss-rule-enabled"]').isChecked(), false);

  // A feed that fails says so in its row.
  await page.locator('[data-testid="rss-feed-url"]').fill(`${feeds.url}/500`);
  await page.locator('[data-testid="rss-add-feed"]').click();
  const bad = page.locator('[data-testid="rss-feed-row"]').filter({ hasText: `${feeds.url}/500` });
  await bad.locator('[data-testid="rss-feed-status"][data-state="error"]').waitFor({ timeout: 15_000 });
  assert.match(await bad.locator('[data-testid="rss-feed-last-error"]').innerText(), /HTTP 500/);
  await screenshot(page, 'rss-page');

  // The node's reading interval: a bad one says why; a good one applies to feeds without their own.
  await page.locator('[data-testid="rss-settings-interval"]').fill('0.5');
  await page.locator('[data-testid="rss-settings-save"]').click();
  await until('the settings error', async () => /refreshInterval: must be between 60/.test(await page.locator('[data-testid="rss-settings-note"]').innerText()), 10_000);
  await page.locator('[data-testid="rss-settings-interval"]').fill('45');
  await page.locator('[data-testid="rss-settings-save"]').click();
  await until('the saved settings', async () => /Saved: every 45 min/.test(await page.locator('[data-testid="rss-settings-note"]').innerText()), 10_000);
  await until('the feed row', async () => /every 45 min/.test(await row.innerText()), 10_000);
  assert.equal((await nodeJson<{ refreshInterval: number }>(node, '/api/rss/settings')).refreshInterval, 2700);

  // A feed's own interval: 10 min, shown in its row (and refused below 1 min, naming the field).
  await row.locator('[data-testid="rss-feed-interval-edit"]').click();
  await row.locator('[data-testid="rss-feed-interval-input"]').fill('0.5');
  await row.locator('[data-testid="rss-feed-interval-save"]').click();
  await until('the interval error', async () => /refreshInterval: must be between 60/.test(await page.locator('[data-testid="rss-feed-error"]').innerText().catch(() => '')), 10_000);
  await row.locator('[data-testid="rss-feed-interval-input"]').fill('10');
  await row.locator('[data-testid="rss-feed-interval-save"]').click();
  await until('the feed interval', async () => /every 10 min/.test(await row.innerText()), 10_000);

  // An item downloaded by hand: the node's add, and the item is read.
  await row.locator('button[aria-pressed]').click();
  const other = page.locator('[data-testid="rss-item-row"]').filter({ hasText: 'Other.Thing.1080p' });
  await other.locator('[data-testid="rss-item-download"]').click();
  await until('the hand-picked torrent', async () => (await nodeJson<{ torrents: { infoHash: string }[] }>(node, '/api/torrents')).torrents.some((x) => x.infoHash === 'f3'.repeat(20)), 10_000);
  await until('the item read', async () => (await other.getAttribute('data-read')) === 'true', 10_000);

  // Mark all read: the unread count of the selected feed goes to 0.
  await page.locator('[data-testid="rss-items-mark-read"]').click();
  await until('all read', async () => (await row.locator('[data-testid="rss-feed-counts"]').innerText()) === '3 items, 0 unread', 10_000);

  // The only failed responses were the previews of the broken regex (400, shown in the page).
  const unexpected = errors.filter((e) => !/rules\/preview|rss\/settings|rss\/feeds\/\d+$/.test(e) && !/status of 400/.test(e));
  assert.deepEqual(unexpected, []);
});
