// Private discovery in the web app (issue 14): the add dialog's switch and the detail panel's, in
// real Chromium against real nodes. A node without a directory refuses the add with its message and
// shows the detail switch disabled with the reason; a node with three relays adds a magnet hidden
// (the API agrees), and the detail switch turns it off and on again.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateIdentity } from '@cascade/identity';
import { startTracker } from '@cascade/tracker';
import { startNodeRelay } from '@cascade/node-network/onion';
import { silentLog } from '@cascade/node';
import { buildUi, collectErrors, launchBrowser, nodeJson, openAsOwner, screenshot, startTestServer, until } from './helpers.ts';
import { describeViolations, isSerious, runAxe } from './a11y.ts';

before(async () => {
  await buildUi();
});

test('the add dialog and the detail panel switch private discovery; a node without relays says why', { timeout: 180_000 }, async (t) => {
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
  t.after(() => tracker.close());
  const directory = `http://127.0.0.1:${tracker.httpPort}`;
  const relays = await Promise.all(
    ['127.0.0.71', '127.0.0.72', '127.0.0.73'].map((host) =>
      startNodeRelay({ identity: generateIdentity(host), host, port: 0, directories: [directory], exit: true, dhtBootstrap: [] }, silentLog),
    ),
  );
  t.after(() => Promise.all(relays.map((r) => r.close())));
  const bare = await startTestServer(t);
  const hidden = await startTestServer(t, { onion: { directories: [directory] } });

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  const el = (id: string) => page.locator(`[data-testid="${id}"]`);

  await t.test('without a directory: the add is refused with the node’s reason; the detail switch is off and says why', async () => {
    await openAsOwner(page, `${bare.url}/#/add`);
    const ih = randomBytes(20).toString('hex');
    await el('add-private-discovery').check();
    await el('add-uri-input').fill(`magnet:?xt=urn:btih:${ih}`);
    await el('add-uri-submit').click();
    await el('add-error').waitFor();
    assert.match(await el('add-error').innerText(), /--directory/);
    assert.equal((await nodeJson<{ total: number }>(bare, '/api/torrents')).total, 0, 'nothing was added');
    await el('add-private-discovery').uncheck();
    await el('add-uri-submit').click();
    await page.waitForURL(new RegExp(`#/torrents/${ih}$`));
    await el('detail-tab-overview').click();
    await el('detail-private-discovery').waitFor();
    assert.equal(await el('detail-private-discovery').isDisabled(), true);
    assert.equal(await el('detail-private-discovery').isChecked(), false);
    assert.match(await el('detail-private-discovery-unavailable').innerText(), /--directory/);
  });

  await t.test('with relays: added hidden, switched off and on in the panel; the node agrees each time', async () => {
    await openAsOwner(page, `${hidden.url}/#/add`);
    const ih = randomBytes(20).toString('hex');
    await el('add-private-discovery').check();
    await el('add-uri-input').fill(`magnet:?xt=urn:btih:${ih}&tr=${encodeURIComponent(tracker.httpAnnounceUrl)}`);
    await el('add-uri-submit').click();
    await page.waitForURL(new RegExp(`#/torrents/${ih}$`));
    assert.equal((await nodeJson<{ privateDiscovery: boolean }>(hidden, `/api/torrents/${ih}`)).privateDiscovery, true);
    await el('detail-tab-overview').click();
    const box = el('detail-private-discovery');
    await box.waitFor();
    await until('the switch shows on', async () => box.isChecked(), 10_000);
    assert.equal(await box.isEnabled(), true);
    await screenshot(page, 'private-discovery-detail');
    const serious = (await runAxe(page)).filter(isSerious);
    assert.deepEqual(serious, [], describeViolations(serious));
    await box.uncheck();
    await until('the node says off', async () => (await nodeJson<{ privateDiscovery: boolean }>(hidden, `/api/torrents/${ih}`)).privateDiscovery === false, 10_000);
    await box.check();
    await until('the node says on', async () => (await nodeJson<{ privateDiscovery: boolean }>(hidden, `/api/torrents/${ih}`)).privateDiscovery === true, 10_000);
    assert.equal(await el('detail-private-discovery-error').count(), 0);
  });

  // The one refusal the first case asks for is no error of the page.
  const refusal = /^HTTP 400: POST .*\/api\/torrents$|status of 400 \(Bad Request\) \(http:\/\/127\.0\.0\.1:\d+\/api\/torrents\)$/;
  assert.deepEqual(errors.filter((e) => !refusal.test(e)), [], 'no errors in the page');
});
