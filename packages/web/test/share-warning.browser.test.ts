// Defect 8's warning where the user shares (issue 20): a node listening beyond loopback (BitTorrent
// on 0.0.0.0 — inside the test's loopback-only namespace that is still only 127.0.0.1) whose
// trackers are all on this machine says so on the Share page, in Settings by the public URL and by
// a torrent's magnet; setting a public URL in Settings clears it for new links.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { startServer } from '@cascade/http';
import { buildUi, collectErrors, launchBrowser, openAsOwner, randomFile, rememberStateDir, tempDir, until } from './helpers.ts';
import { describeViolations, isSerious, runAxe } from './a11y.ts';

before(async () => {
  await buildUi();
});

test('loopback-only trackers on a node reachable from elsewhere: the warning shows where the user shares, until a public URL is set', async (t) => {
  const stateDir = await tempDir(t, 'share-warning', true);
  const server = await startServer({
    chain: false, // no embedded chain: not what this is about
    stateDir,
    downloadDir: join(stateDir, 'downloads'),
    httpPort: 0,
    host: '127.0.0.1',
    btPort: 0,
    btHost: '0.0.0.0',
    dht: false,
    trackerPorts: { http: 0, udp: 0 },
  });
  t.after(async () => {
    await server.close();
    await rm(stateDir, { recursive: true, force: true, maxRetries: 5 });
  });
  await server.ready;
  rememberStateDir(server.url, stateDir);
  const work = await tempDir(t, 'share-warning-files');
  const file = await randomFile(work, 'holiday.bin', 40_000);

  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${server.url}/#/share`);
  const errors = collectErrors(page);
  const warning = page.locator('[data-testid="share-warning"]');

  await t.test('the Share page warns before anything is shared', async () => {
    await warning.waitFor({ timeout: 10_000 });
    assert.match(await warning.innerText(), /public URL/i);
    // Its link sits in a sentence: it must not be told apart by colour alone (axe's
    // link-in-text-block, serious, found here with the owner signed in: issue 44 item 8).
    const serious = (await runAxe(page)).filter(isSerious);
    assert.equal(serious.length, 0, describeViolations(serious));
  });

  await t.test('the shared torrent’s magnet carries the warning in its detail', async () => {
    await page.locator('[data-testid="share-input"]').setInputFiles(file.path);
    const link = page.locator('[data-testid="magnet-link"]').first();
    await link.waitFor({ timeout: 60_000 });
    const hash = /btih:([0-9a-f]{40})/i.exec(await link.inputValue())![1]!.toLowerCase();
    await page.goto(`${server.url}/#/torrents/${hash}`);
    await page.locator('[data-testid="detail-tab-overview"]').click();
    await page.locator('[data-testid="detail-share-warning"]').waitFor({ timeout: 10_000 });
  });

  await t.test('Settings shows it by the public URL; setting one clears it', async () => {
    await page.goto(`${server.url}/#/settings`);
    await warning.waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="settings-public-url"]').fill('https://cascade.example.org');
    await page.locator('[data-testid="settings-save"]').click();
    await page.locator('[data-testid="settings-saved"]').waitFor();
    await warning.waitFor({ state: 'detached', timeout: 10_000 });
    await page.goto(`${server.url}/#/share`);
    await page.locator('[data-testid="share-input"]').waitFor();
    // Health is read once on arrival: give it the moment it takes, then it must not be there.
    await until('health read', () => page.evaluate(async () => (await (await fetch('/api/health')).json()).shareWarning === null), 5_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await warning.count(), 0);
  });

  assert.deepEqual(errors, []);
});
