// Where to save, at add (issue 20 staples): the add dialog's save path, category (with its own
// folder), tags and start paused, for a magnet and a .torrent file; the share page's category and
// tags — each checked against the node's API.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildUi, collectErrors, launchBrowser, lt, nodeFetch, nodeJson, openAsOwner, randomFile, screenshot, startTestServer, tempDir, until, type TestServer } from './helpers.ts';

before(async () => {
  await buildUi();
});

interface Entry {
  category: string | null;
  tags: string[];
  savePath: string;
  state: string;
}

const entry = (node: TestServer, hash: string) => nodeJson<Entry>(node, `/api/torrents/${hash}`);

test('add dialog and share page: save path, category, tags, start paused', async (t) => {
  const node = await startTestServer(t);
  const musicDir = await tempDir(t, 'music');
  const made = await nodeFetch(node, '/api/categories', { method: 'POST', body: JSON.stringify({ name: 'Music', savePath: musicDir }) });
  assert.equal(made.status, 201, await made.text());

  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/add`);
  const errors = collectErrors(page);
  const el = (id: string) => page.locator(`[data-testid="${id}"]`);

  await t.test('a magnet into a category (its folder), with tags, paused', async () => {
    const hash = 'abcdef0123456789abcdef0123456789abcdef01';
    await until('the category in the select', async () => (await el('add-category').locator('option', { hasText: 'Music' }).count()) === 1, 10_000);
    await el('add-category').selectOption('Music');
    assert.equal(await el('add-save-path').getAttribute('placeholder'), musicDir, 'the category’s folder is the default shown');
    await el('add-tags').fill('live, 2026');
    await el('add-paused').check();
    await el('add-uri-input').fill(`magnet:?xt=urn:btih:${hash}&dn=concert`);
    await screenshot(page, 'add-options-01');
    await el('add-uri-submit').click();
    await page.waitForURL(new RegExp(`#/torrents/${hash}$`));
    const e = await entry(node, hash);
    assert.equal(e.category, 'Music');
    assert.deepEqual(e.tags, ['live', '2026']);
    assert.equal(e.savePath, musicDir);
    assert.equal(e.state, 'paused');
  });

  await t.test('a .torrent file into a folder of its own, started', async (tt) => {
    const work = await tempDir(tt, 'add-torrent');
    const file = await randomFile(work, 'album.bin', 100_000);
    const created = lt(tt, ['create', file.path, join(work, 'album.torrent'), '--piece-length', '16384']);
    const { infoHash } = (await created.waitFor('created', 30_000)) as { infoHash: string };
    const dest = join(await tempDir(tt, 'dest'), 'albums');
    await page.goto(`${node.url}/#/add`);
    await el('add-save-path').fill(dest);
    await el('add-paused').uncheck();
    await el('add-torrent-input').setInputFiles(join(work, 'album.torrent'));
    await page.waitForURL(new RegExp(`#/torrents/${infoHash}$`));
    const e = await entry(node, infoHash);
    assert.equal(e.savePath, dest);
    assert.equal(e.category, null);
    assert.notEqual(e.state, 'paused');
  });

  await t.test('share: a new category and tags for what is shared', async (tt) => {
    const work = await tempDir(tt, 'share');
    const file = await randomFile(work, 'notes.bin', 50_000);
    await page.goto(`${node.url}/#/share`);
    await page.locator('.share-options summary').click();
    await el('share-category').selectOption({ label: 'New category…' });
    await el('share-category-new').fill('Shared');
    await el('share-tags').fill('mine');
    await el('share-input').setInputFiles(file.path);
    const link = el('magnet-link').first();
    await link.waitFor({ timeout: 60_000 });
    const hash = /btih:([0-9a-f]{40})/i.exec(await link.inputValue())![1]!.toLowerCase();
    const e = await entry(node, hash);
    assert.equal(e.category, 'Shared');
    assert.deepEqual(e.tags, ['mine']);
  });

  assert.deepEqual(errors, []);
});
