// BitTorrent v2 in the web UI (issue 15): the share's format choice (hybrid by default), a hybrid
// share's two infohashes in its magnet and in the detail's overview, a v1 share without them, and
// the Add page's checks (junk named with what is accepted; a bad mirror line or checksum named; a
// content id refused for a browser download, which cannot look one up).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseTorrent } from '@cascade/engine';
import { buildUi, collectErrors, launchBrowser, openAsOwner, randomFile, startTestServer, tempDir, until } from './helpers.ts';

before(async () => {
  await buildUi();
});

test('share as hybrid (the default) or v1; both infohashes shown; the Add page checks what it is given', { timeout: 180_000 }, async (t) => {
  const node = await startTestServer(t);
  const work = await tempDir(t, 'files');
  const file = await randomFile(work, 'river-survey.bin', 300_000);
  const v1file = await randomFile(work, 'old-style.bin', 50_000);

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  const el = (id: string) => page.locator(`[data-testid="${id}"]`);
  await openAsOwner(page, `${node.url}/#/share`);
  await page.getByRole('heading', { name: 'Share files' }).waitFor();

  let infoHash = '';
  let infoHashV2 = '';
  await t.test('the default share is hybrid: its magnet has urn:btih and urn:btmh', async () => {
    await page.getByText('Format, category, tags and folder').click();
    assert.equal(await el('share-version').inputValue(), 'hybrid');
    await el('share-input').setInputFiles(file.path);
    const link = el('magnet-link').first();
    await link.waitFor({ timeout: 60_000 });
    const magnet = await link.inputValue();
    const m = /xt=urn:btih:([0-9a-f]{40}).*xt=urn:btmh:1220([0-9a-f]{64})/i.exec(magnet);
    assert.ok(m, `hybrid magnet: ${magnet}`);
    [infoHash, infoHashV2] = [m[1]!.toLowerCase(), m[2]!.toLowerCase()];
    // The v2 infohash is the SHA-256 of the info dictionary whose SHA-1 is the v1 one.
    const res = await page.request.get(`${node.url}/api/torrents/${infoHash}/torrent`);
    const info = parseTorrent(new Uint8Array(await res.body())).infoBytes;
    assert.equal(createHash('sha1').update(info).digest('hex'), infoHash);
    assert.equal(createHash('sha256').update(info).digest('hex'), infoHashV2);
  });

  await t.test("the detail's overview shows both infohashes and the format", async () => {
    await page.goto(`${node.url}/#/torrents/${infoHash}`);
    await el('detail-tab-overview').click();
    await el('detail-infohash-v2').waitFor({ timeout: 20_000 });
    assert.equal(await el('detail-infohash').innerText(), infoHash);
    assert.equal(await el('detail-infohash-v2').innerText(), infoHashV2);
    assert.match(await el('detail-version').innerText(), /Hybrid/);
  });

  await t.test('v1 chosen: a v1 magnet, no v2 infohash in the detail', async () => {
    await page.goto(`${node.url}/#/share`);
    await page.getByText('Format, category, tags and folder').click();
    await el('share-version').selectOption('v1');
    await el('share-input').setInputFiles(v1file.path);
    // The page was left, so the share list holds only this one.
    const magnet = await until('the v1 share', async () => {
      if (await el('share-error').count()) throw new Error(`share failed: ${await el('share-error').innerText()}`);
      const m = (await el('magnet-link').count()) > 0 ? await el('magnet-link').first().inputValue() : '';
      return /dn=old-style\.bin/.test(m) ? m : undefined;
    }, 60_000);
    assert.doesNotMatch(magnet, /urn:btmh/);
    const v1 = /urn:btih:([0-9a-f]{40})/i.exec(magnet)![1]!.toLowerCase();
    await page.goto(`${node.url}/#/torrents/${v1}`);
    await el('detail-tab-overview').click();
    await el('detail-infohash').waitFor();
    assert.equal(await el('detail-infohash-v2').count(), 0);
    assert.equal(await el('detail-version').count(), 0);
  });

  await t.test('the Add page: junk, bad mirrors and a bad checksum are named before any request; a content id is for the node', async () => {
    await page.goto(`${node.url}/#/add`);
    await el('add-uri-input').fill('not-a-thing');
    await el('add-uri-submit').click();
    await el('add-error').waitFor();
    assert.match(await el('add-error').innerText(), /content id/);

    await page.getByText('Mirrors and checksum').click();
    await el('add-uri-input').fill('https://127.0.0.1:9/file.iso');
    await el('add-mirrors').fill('https://127.0.0.1:9/a.iso\nmirror-without-scheme');
    await el('add-uri-submit').click();
    await until('the mirror error', async () => /Not an http\(s\) or ftp URL: mirror-without-scheme/.test(await el('add-error').innerText()), 10_000);
    await el('add-mirrors').fill('');
    await el('add-sha256').fill('abc');
    await el('add-uri-submit').click();
    await until('the checksum error', async () => /64 hex digits/.test(await el('add-error').innerText()), 10_000);

    // In a browser tab there is no content-id lookup: said before any request.
    await el('add-target-browser').click();
    await el('add-uri-input').fill('bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am');
    await el('add-uri-submit').click();
    await until('the browser refusal', async () => /In this browser/.test(await el('add-error').innerText()), 10_000);
  });

  await t.test("the web seed option (issue 61): off without a public URL; with one, the torrent's url-list is <publicUrl>/webseed/<infohash>/", async () => {
    await page.goto(`${node.url}/#/share`);
    await page.getByText('Format, category, tags and folder').click();
    assert.equal(await el('share-web-seed').isDisabled(), true);
    await node.server.node.model.setSettings({ publicUrl: 'https://cdn.example.org' });
    await page.reload();
    await page.getByText('Format, category, tags and folder').click();
    await el('share-web-seed').check();
    const seeded = await randomFile(work, 'cdn-seeded.bin', 40_000);
    await el('share-input').setInputFiles(seeded.path);
    const magnet = await until('the web-seeded share', async () => {
      if (await el('share-error').count()) throw new Error(`share failed: ${await el('share-error').innerText()}`);
      const m = (await el('magnet-link').count()) > 0 ? await el('magnet-link').first().inputValue() : '';
      return /dn=cdn-seeded\.bin/.test(m) ? m : undefined;
    }, 60_000);
    const ih = /urn:btih:([0-9a-f]{40})/i.exec(magnet)![1]!.toLowerCase();
    const res = await page.request.get(`${node.url}/api/torrents/${ih}/torrent`);
    assert.deepEqual(parseTorrent(new Uint8Array(await res.body())).urlList, [`https://cdn.example.org/webseed/${ih}/`]);
  });

  assert.deepEqual(errors, []);
  assert.ok(readFileSync(file.path).length > 0);
});
