// Notifications (issue 20 staple): opt-in in Settings (the toggle asks the browser's permission,
// granted here through the browser context), then the browser's Notification API says when a
// download on the node completes — libtorrent seeds it — and when one fails. The page's
// window.Notification is wrapped by an init script that records each one constructed.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildUi, collectErrors, launchBrowser, lt, nodeFetch, openAsOwner, randomFile, startTestServer, tempDir, until } from './helpers.ts';

before(async () => {
  await buildUi();
});

interface Note {
  title: string;
  body: string;
}

const notes = (page: Page) => page.evaluate(() => (window as unknown as { __notes: Note[] }).__notes);

test('notifications: turned on in Settings, then shown when a download completes and when one fails', async (t) => {
  const node = await startTestServer(t);
  // The desktop Chromium: the headless shell reads Notification.permission as 'denied' even when granted.
  const context = await launchBrowser(t, { fullChromium: true });
  await context.grantPermissions(['notifications'], { origin: node.url });
  await context.addInitScript(() => {
    const w = window as unknown as { __notes: { title: string; body: string }[]; Notification: typeof Notification };
    w.__notes = [];
    const Orig = w.Notification;
    if (typeof Orig !== 'function') return;
    const Recorded = function (title: string, options?: NotificationOptions) {
      w.__notes.push({ title, body: options?.body ?? '' });
      return new Orig(title, options);
    } as unknown as typeof Notification;
    Object.defineProperty(Recorded, 'permission', { get: () => Orig.permission });
    Object.defineProperty(Recorded, 'requestPermission', { value: (...a: []) => Orig.requestPermission(...a) });
    Recorded.prototype = Orig.prototype;
    w.Notification = Recorded;
  });
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/settings`);
  const errors = collectErrors(page);

  await t.test('the Settings toggle turns them on (permission granted)', async () => {
    const toggle = page.locator('[data-testid="settings-notifications"]');
    assert.equal(await toggle.isChecked(), false, 'off until asked for');
    await toggle.check();
    await until('on', async () => (await page.locator('[data-testid="settings-notifications-status"]').getAttribute('data-status')) === 'on', 5_000);
    await page.reload();
    await until('still on after a reload', () => page.locator('[data-testid="settings-notifications"]').isChecked(), 10_000);
  });

  await page.goto(`${node.url}/#/torrents`);

  await t.test('a download that completes is notified', async (tt) => {
    const work = await tempDir(tt, 'notify-seed');
    await randomFile(work, 'report.bin', 400_000);
    const made = lt(tt, ['create', join(work, 'report.bin'), join(work, 'report.torrent'), '--piece-length', '16384']);
    const { infoHash } = (await made.waitFor('created', 30_000)) as { infoHash: string };
    const seeder = lt(tt, ['seed', join(work, 'report.torrent'), work]);
    const { port } = (await seeder.waitFor('listening', 30_000)) as { port: number };
    await seeder.waitFor('seeding', 30_000);
    const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${infoHash}&dn=report.bin`, peers: [`127.0.0.1:${port}`] }) });
    assert.ok(res.ok, `${res.status} ${await res.text()}`);
    await until('the completion notified', async () => (await notes(page)).some((n) => n.title === 'Download complete' && n.body === 'report.bin'), 60_000);
  });

  await t.test('a download that fails is notified', async (tt) => {
    // Its folder cannot be made (a file stands where a folder should be): the torrent errs once its
    // metadata is known and the storage opens.
    const work = await tempDir(tt, 'notify-fail');
    await randomFile(work, 'broken.bin', 100_000);
    const made = lt(tt, ['create', join(work, 'broken.bin'), join(work, 'broken.torrent'), '--piece-length', '16384']);
    const { infoHash } = (await made.waitFor('created', 30_000)) as { infoHash: string };
    const seeder = lt(tt, ['seed', join(work, 'broken.torrent'), work]);
    const { port } = (await seeder.waitFor('listening', 30_000)) as { port: number };
    // Seeding before the node asks it for the metadata: a libtorrent still checking its file turned
    // the node's first dials away, and their back-off outlasted the wait below on a loaded machine.
    await seeder.waitFor('seeding', 30_000);
    const blocked = await tempDir(tt, 'blocked');
    await mkdir(blocked, { recursive: true });
    await writeFile(join(blocked, 'not-a-folder'), 'x');
    const res = await nodeFetch(node, '/api/torrents', {
      method: 'POST',
      body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${infoHash}&dn=broken.bin`, peers: [`127.0.0.1:${port}`], savePath: join(blocked, 'not-a-folder', 'inside') }),
    });
    assert.ok(res.ok, `${res.status} ${await res.text()}`);
    await until('the failure notified', async () => (await notes(page)).some((n) => n.title === 'Download failed' && n.body.startsWith('broken.bin')), 60_000).catch(async (err: Error) => {
      const d = await nodeFetch(node, `/api/torrents/${infoHash}`).then((r) => r.text()).catch((e: Error) => e.message);
      throw new Error(`${err.message}; the torrent: ${d.slice(0, 600)}; notes: ${JSON.stringify(await notes(page))}`);
    });
  });

  assert.deepEqual(errors.filter((e) => !e.includes('/api/auth')), []);
});
