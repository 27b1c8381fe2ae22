// The detail panel's per-torrent staples (issue 20): speed limits, category (one of the node's or a
// new one), tags, seeding goals, force start, super-seeding and Move — set in the page, checked against the node's
// API (PATCH /api/torrents/:infoHash did it) and on disk.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeViolations, isSerious, runAxe, structuralProblems } from './a11y.ts';
import { buildUi, collectErrors, launchBrowser, nodeFetch, nodeJson, openAsOwner, randomFile, screenshot, startTestServer, tempDir, until, type TestServer } from './helpers.ts';

before(async () => {
  await buildUi();
});

interface Entry {
  infoHash: string;
  downloadLimit: number;
  uploadLimit: number;
  category: string | null;
  tags: string[];
  ratioLimit: number | null;
  seedingTimeLimit: number | null;
  forceStart: boolean;
  savePath: string;
  queuePosition: number | null;
}

const entry = (node: TestServer, hash: string) => nodeJson<Entry>(node, `/api/torrents/${hash}`);

test('detail panel: limits, category, tags, seeding goals, force start and Move', async (t) => {
  const node = await startTestServer(t);
  const work = await tempDir(t, 'options-files');
  const file = await randomFile(work, 'film.bin', 300_000);
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(await (await import('node:fs/promises')).readFile(file.path))]), 'film.bin');
  const up = await nodeFetch(node, '/api/torrents', { method: 'POST', body: fd });
  assert.equal(up.status, 201, await up.clone().text());
  const { infoHash } = (await up.json()) as { infoHash: string };
  const made = await nodeFetch(node, '/api/categories', { method: 'POST', body: JSON.stringify({ name: 'Films' }) });
  assert.equal(made.status, 201, await made.text());

  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/torrents/${infoHash}`);
  const errors = collectErrors(page);
  const panel = page.locator('[data-testid="detail-panel"]');
  const el = (id: string) => panel.locator(`[data-testid="${id}"]`);
  await panel.locator('[data-testid="detail-tab-options"]').click();
  await el('torrent-download-limit').waitFor();

  await t.test('the Options tab passes axe-core (no serious or critical violation, every field labelled)', async () => {
    const serious = (await runAxe(page)).filter(isSerious);
    assert.deepEqual(serious, [], describeViolations(serious));
    assert.deepEqual(await structuralProblems(page), []);
  });

  await t.test('limits, a category, tags and seeding goals are applied to the torrent', async () => {
    await el('torrent-download-limit').fill('300k');
    await el('torrent-upload-limit').fill('1M');
    await until('the node’s categories in the select', async () => (await el('torrent-category').locator('option', { hasText: 'Films' }).count()) === 1, 5_000);
    await el('torrent-category').selectOption('Films');
    await el('torrent-tags').fill('alpha, beta, alpha');
    await el('torrent-ratio-limit').fill('1.5');
    await el('torrent-seeding-time-limit-mode').selectOption('none');
    await screenshot(page, 'detail-options-01');
    await el('torrent-options-save').click();
    await el('torrent-options-saved').waitFor();
    const e = await entry(node, infoHash);
    assert.equal(e.downloadLimit, 300 * 1024);
    assert.equal(e.uploadLimit, 1024 * 1024);
    assert.equal(e.category, 'Films');
    assert.deepEqual(e.tags, ['alpha', 'beta']);
    assert.equal(e.ratioLimit, 1.5);
    assert.equal(e.seedingTimeLimit, -1);
    // The Info tab shows them too.
    await panel.locator('[data-testid="detail-tab-overview"]').click();
    await until('category and tags in Info', async () => (await el('detail-category').innerText()) === 'Films' && (await el('detail-tags').innerText()) === 'alpha, beta', 5_000);
    await panel.locator('[data-testid="detail-tab-options"]').click();
  });

  await t.test('a new category is made and given; the node’s default goal again; no own limit', async () => {
    await el('torrent-category').selectOption({ label: 'New category…' });
    await el('torrent-category-new').fill('Linux ISOs');
    await el('torrent-ratio-limit-mode').selectOption('default');
    await el('torrent-download-limit').fill('');
    await el('torrent-options-save').click();
    await el('torrent-options-saved').waitFor();
    const e = await entry(node, infoHash);
    assert.equal(e.category, 'Linux ISOs');
    assert.equal(e.ratioLimit, null);
    assert.equal(e.downloadLimit, 0);
    const { categories } = await nodeJson<{ categories: { name: string }[] }>(node, '/api/categories');
    assert.ok(categories.some((c) => c.name === 'Linux ISOs'));
  });

  await t.test('bad values are named and change nothing', async () => {
    await el('torrent-upload-limit').fill('very fast');
    await el('torrent-options-save').click();
    await until('the problem named', async () => /Upload limit/.test(await el('torrent-options-error').innerText()), 5_000);
    assert.equal((await entry(node, infoHash)).uploadLimit, 1024 * 1024);
    await el('torrent-upload-limit').fill('1M');
  });

  await t.test('Apply sends only what was changed here: a change made elsewhere meanwhile stays', async () => {
    const res = await nodeFetch(node, `/api/torrents/${infoHash}`, { method: 'PATCH', body: JSON.stringify({ tags: ['set-elsewhere'] }) });
    assert.ok(res.ok, await res.text());
    await el('torrent-upload-limit').fill('2M');
    await el('torrent-options-save').click();
    await until('applied', async () => (await entry(node, infoHash)).uploadLimit === 2 * 1024 * 1024, 5_000);
    assert.deepEqual((await entry(node, infoHash)).tags, ['set-elsewhere']);
  });

  await t.test('force start is switched on and off', async () => {
    await el('torrent-force-start').click();
    await until('forced on the node', async () => (await entry(node, infoHash)).forceStart, 5_000);
    await until('shown as pressed', async () => (await el('torrent-force-start').getAttribute('aria-pressed')) === 'true', 5_000);
    await el('torrent-force-start').click();
    await until('forced off', async () => !(await entry(node, infoHash)).forceStart, 5_000);
  });

  await t.test('super-seeding (BEP 16) of the complete torrent is switched on and off, in the engine too', async () => {
    const superSeeding = async () => (await (await nodeFetch(node, `/api/torrents/${infoHash}`)).json()) as { superSeeding: boolean };
    await el('torrent-super-seeding').click();
    await until('on, on the node', async () => (await superSeeding()).superSeeding, 5_000);
    assert.equal(node.server.node.session.get(infoHash)?.superSeeding, true, 'the engine super-seeds');
    await until('shown as pressed', async () => (await el('torrent-super-seeding').getAttribute('aria-pressed')) === 'true', 5_000);
    await el('torrent-super-seeding').click();
    await until('off, on the node', async () => !(await superSeeding()).superSeeding, 5_000);
    assert.equal(node.server.node.session.get(infoHash)?.superSeeding, false);
  });

  await t.test('the order of its pieces: in order, and first and last pieces first (issue 43 item 7)', async () => {
    const detail = async () => (await (await nodeFetch(node, `/api/torrents/${infoHash}`)).json()) as { sequential: boolean; firstLastPiece: boolean };
    await el('torrent-sequential').click();
    await until('sequential on the node', async () => (await detail()).sequential, 5_000);
    await until('shown as pressed', async () => (await el('torrent-sequential').getAttribute('aria-pressed')) === 'true', 5_000);
    await el('torrent-first-last').click();
    await until('first and last on the node', async () => (await detail()).firstLastPiece, 5_000);
    await until('shown as pressed', async () => (await el('torrent-first-last').getAttribute('aria-pressed')) === 'true', 5_000);
    await el('torrent-sequential').click();
    await until('sequential off', async () => !(await detail()).sequential, 5_000);
    assert.equal((await detail()).firstLastPiece, true, 'the other toggle stays');
  });

  await t.test('Move takes the data to another folder and the torrent goes on from there', async () => {
    const dest = join(await tempDir(t, 'moved-to'), 'films');
    await el('torrent-save-path').fill(dest);
    await el('torrent-move').click();
    await el('torrent-moved').waitFor({ timeout: 20_000 });
    const e = await entry(node, infoHash);
    assert.equal(e.savePath, dest);
    assert.ok(existsSync(join(dest, 'film.bin')), 'the file is in the new folder');
    // A bad place is refused and named.
    await el('torrent-save-path').fill(`${dest}/../escape`); // the node refuses '..' (name the folder itself)
    await el('torrent-move').click();
    await el('torrent-move-error').waitFor();
    assert.equal((await entry(node, infoHash)).savePath, dest);
  });

  assert.deepEqual(errors.filter((e) => !/HTTP 400/.test(e) && !/status of 400/.test(e)), []);
});

test('detail panel: the queue buttons move a torrent in the download queue', async (t) => {
  const node = await startTestServer(t);
  const hashes = ['1a'.repeat(20), '2b'.repeat(20), '3c'.repeat(20)];
  for (const [i, hash] of hashes.entries()) {
    const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${hash}&dn=queued-${i + 1}` }) });
    assert.ok(res.ok, `${res.status} ${await res.text()}`);
  }
  // One download at a time: the others wait in the queue.
  const limited = await nodeFetch(node, '/api/settings', { method: 'PATCH', body: JSON.stringify({ maxActiveDownloads: 1 }) });
  assert.ok(limited.ok, await limited.text());
  const last = hashes[2]!;
  const position = async () => (await entry(node, last)).queuePosition;
  assert.equal(await position(), 3);

  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/torrents/${last}`);
  const errors = collectErrors(page);
  const panel = page.locator('[data-testid="detail-panel"]');
  const shown = () => panel.locator('[data-testid="torrent-queue-position"]').innerText();
  await until('its place shown', async () => /Queue #3/.test(await shown()), 10_000);
  assert.match(await shown(), /waiting/, 'it waits for a slot');

  for (const [button, expected] of [['queue-top', 1], ['queue-down', 2], ['queue-bottom', 3], ['queue-up', 2]] as const) {
    await panel.locator(`[data-testid="${button}"]`).click();
    await until(`${button} → #${expected} on the node`, async () => (await position()) === expected, 5_000);
    await until(`${button} → #${expected} in the panel`, async () => (await shown()).includes(`Queue #${expected}`), 5_000);
  }
  assert.deepEqual(errors, []);
});
