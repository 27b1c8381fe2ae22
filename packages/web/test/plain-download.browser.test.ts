// A plain file by URL on the Add page (issue 15): the node fetches it from its URL and a mirror at
// once, checks its SHA-256, shares it as a torrent, and the page follows it to the torrent's detail;
// a wrong SHA-256 ends in a clear failure on the card.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildUi, collectErrors, launchBrowser, openAsOwner, startTestServer, until } from './helpers.ts';

before(async () => {
  await buildUi();
});

/** Serves `data` at every path on 127.0.0.1, with byte ranges (as a mirror does). */
async function fileServer(t: { after: (fn: () => unknown) => void }, data: Buffer): Promise<string> {
  const srv = createServer((req, res) => {
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    if (!m) return void res.writeHead(200, { 'content-length': data.length, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' }).end(req.method === 'HEAD' ? undefined : data);
    const start = Number(m[1]);
    const end = m[2] ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
    res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${data.length}`, 'content-type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : data.subarray(start, end + 1));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

test('Add page: a plain file by URL and a mirror, checked and shared as a torrent', { timeout: 120_000 }, async (t) => {
  const node = await startTestServer(t, { allowPrivateUrls: true });
  const data = randomBytes(3 * 1024 * 1024 + 123);
  const sha = createHash('sha256').update(data).digest('hex');
  const origin = await fileServer(t, data);
  const mirror = await fileServer(t, data);

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  const el = (id: string) => page.locator(`[data-testid="${id}"]`);
  await openAsOwner(page, `${node.url}/#/add`);

  await t.test('a checked download ends in the torrent it became', async () => {
    await el('add-uri-input').fill(`${origin}/survey-data.bin`);
    await page.getByText('Mirrors and checksum').click();
    await el('add-mirrors').fill(`${mirror}/survey-data.bin`);
    await el('add-sha256').fill(sha);
    await el('add-uri-submit').click();
    await el('plain-download').waitFor({ timeout: 20_000 });
    assert.equal(await el('plain-download-source').count(), 2, 'the URL and its mirror');
    await page.waitForURL(/#\/torrents\/[0-9a-f]{40}/, { timeout: 60_000 });
    const infoHash = /#\/torrents\/([0-9a-f]{40})/.exec(page.url())![1]!;
    const detail = await (await page.request.get(`${node.url}/api/torrents/${infoHash}`)).json();
    assert.equal(detail.name, 'survey-data.bin');
    assert.equal(detail.length, data.length);
  });

  await t.test('a wrong SHA-256 fails on the card and keeps nothing', async () => {
    await page.goto(`${node.url}/#/add`);
    await el('add-uri-input').fill(`${origin}/other.bin`);
    await page.getByText('Mirrors and checksum').click();
    await el('add-sha256').fill('0'.repeat(64));
    await el('add-uri-submit').click();
    await until('the failure', async () => (await el('plain-download').getAttribute('data-state')) === 'error', 60_000);
    assert.match(await el('plain-download-state').innerText(), /Failed: .*(SHA-256|sha256)/i);
    const list = await (await page.request.get(`${node.url}/api/torrents`)).json();
    const rows = list.torrents ?? list;
    assert.equal(rows.filter((r: { name: string }) => r.name === 'other.bin').length, 0);
  });

  assert.deepEqual(errors, []);
});
