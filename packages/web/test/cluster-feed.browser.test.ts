// Issue 42's "a change seen by a page on another member": two cluster members on a real PostgreSQL
// and redis-server, a real Chromium page signed in (as the owner) on member B; a torrent added and
// a setting changed through member A's API appear on B's page without a reload. Nothing is timed:
// each wait is for the element, with a generous deadline that only ends a failing test.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, freePort } from '../../node/test/postgres-server.ts';
import { runRedis, stopRedis } from '../../http/test/cluster-helpers.ts';
import { buildUi, collectErrors, launchBrowser, nodeFetch, openAsOwner, startTestServer } from './helpers.ts';

before(async () => {
  await buildUi();
});


test('a torrent added and a setting changed through member A appear on a page signed in on member B, without a reload', { timeout: 180_000 }, async (t) => {
  const pg = await startPostgres(t);
  const database = await pg.database('feed');
  const redisPort = await freePort();
  const redis = await runRedis(redisPort);
  t.after(() => stopRedis(redis));
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  const member = async () => {
    const port = await freePort();
    return startTestServer(t, { database, httpPort: port, cluster: { url: `http://127.0.0.1:${port}`, redis: redisUrl } });
  };
  const a = await member();
  const b = await member();

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  // Claimed through B: the cluster's users are one, so this browser is the owner on every member.
  await openAsOwner(page, `${b.url}/#/torrents`);
  const toggle = page.locator('[data-testid="alt-speed-toggle"]');
  await toggle.waitFor({ timeout: 30_000 });
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');

  // A torrent added through A (a file shared there: A holds it first; B lists it, then is placed a copy).
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(70_000).fill(7)]), 'from-member-a.bin');
  const added = await nodeFetch(a, '/api/torrents', { method: 'POST', body: fd });
  const body = (await added.json()) as { infoHash: string };
  assert.equal(added.status, 201, JSON.stringify(body));
  const row = page.locator('[data-testid="torrent-row"]', { hasText: 'from-member-a.bin' });
  await row.waitFor({ timeout: 60_000 });

  // Its detail on B names the member that holds it: A, alive, its copy complete and counting.
  await row.locator('[data-testid="torrent-name"]').click();
  const panel = page.locator('[data-testid="detail-panel"]');
  await panel.locator('[data-testid="detail-tab-overview"]').click();
  const aId = (await (await nodeFetch(a, '/api/cluster')).json()) as { members: { id: string; url: string }[] };
  const aMember = aId.members.find((m) => m.url === a.url)!;
  const holderA = panel.locator(`[data-testid="detail-holders"] [data-testid="detail-holder"][data-member="${aMember.id}"]`);
  await holderA.waitFor({ timeout: 60_000 });
  assert.equal(await holderA.getAttribute('data-alive'), 'true');
  await panel.locator(`[data-testid="detail-holder"][data-member="${aMember.id}"][data-state="seeding"]`).waitFor({ timeout: 60_000 });
  assert.match((await holderA.textContent()) ?? '', /100%/);
  // Two members, two replicas: B is placed a copy, fetches it from A, and the open panel shows it
  // as a second holder, without a reload.
  const bMember = aId.members.find((m) => m.url === b.url)!;
  await panel.locator(`[data-testid="detail-holder"][data-member="${bMember.id}"][data-state="seeding"]`).waitFor({ timeout: 90_000 });
  assert.match((await panel.locator('[data-testid="detail-holders"] h3').textContent()) ?? '', /Held by 2 members/);
  await page.goto(`${b.url}/#/torrents`);

  // A setting changed through A: B's page follows (the turtle shows the alternative limits in force).
  const patched = await nodeFetch(a, '/api/settings', { method: 'PATCH', body: JSON.stringify({ altSpeedEnabled: true }) });
  assert.equal(patched.status, 200, await patched.text());
  await page.locator('[data-testid="alt-speed-toggle"][aria-pressed="true"]').waitFor({ timeout: 60_000 });

  assert.deepEqual(errors, []);
});
