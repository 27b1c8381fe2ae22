// Private shares in the web app (issue 24), in real Chromium inside a loopback-only namespace:
//  1. Share → "Anyone with the link" and "Only these people": the page sends the fields, shows the
//     link (only for a link share) and the notes; a bad did is refused before anything is uploaded;
//  2. the list and the detail mark encrypted torrents, and a share for someone else says so;
//  3. the picker offers the signed-in user's chat contacts (someone who wrote to them in this node's chat);
//  4. a tab signed in with a recipient's key downloads a share made for it over WebRTC from the node
//     and saves the plaintext, byte for byte, under its real name.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateIdentity } from '@cascade/identity';
import { ChatClient, generateIdentity as chatIdentity } from '@cascade/chat';
import { io as ioClient } from 'socket.io-client';
import { createTorrent } from '@cascade/engine';
import { INFO_KEY, recipientKeyFromDid } from '@cascade/private-shares';
import { sealFiles } from '@cascade/private-shares/node';
import {
  buildUi, collectErrors, browserContext, meOf, nodeFetch, nodeJson, openAsOwner, randomFile, sha1, startTestServer, tempDir, until,
} from './helpers.ts';

before(async () => {
  await buildUi();
});

interface Detail {
  name: string;
  encrypted: boolean;
  decryptable: boolean;
  error: string | null;
  files: { path: string }[];
}

test('sharing privately from the page: a link share shows its link, a share for people sends their dids', async (t) => {
  const node = await startTestServer(t);
  const work = await tempDir(t, 'files');
  const file = await randomFile(work, 'plans.pdf', 300_000);
  const page = await (await browserContext(t)).newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/share`);

  // By link.
  await page.getByTestId('share-audience-link').check();
  await page.getByTestId('share-private-note').waitFor();
  assert.match(await page.getByTestId('share-private-note').innerText(), /cannot be taken back/);
  await page.getByTestId('share-input').setInputFiles(file.path);
  const linkResult = page.locator('[data-testid="share-result"]').first();
  await linkResult.getByTestId('share-link').waitFor({ timeout: 60_000 });
  const link = await linkResult.getByTestId('share-link').inputValue();
  const magnet = await linkResult.getByTestId('magnet-link').inputValue();
  const linkHash = (await linkResult.getAttribute('data-infohash'))!;
  assert.match(link, /^magnet:\?[^#]+#k=[A-Za-z0-9_-]{43}$/);
  assert.ok(link.startsWith(magnet) && !magnet.includes('#'), 'the magnet has no key, the link does');
  const linkDetail = await nodeJson<Detail>(node, `/api/torrents/${linkHash}`);
  assert.equal(linkDetail.encrypted, true);
  assert.equal(linkDetail.decryptable, true, 'the sharer’s node reads its own share');
  assert.equal(linkDetail.name, 'plans.pdf');

  // For people: a bad did is refused on the page; good ones are listed and sent.
  await page.getByTestId('share-audience-recipients').check();
  await page.getByTestId('share-recipient-input').fill('did:key:zNotAKey');
  await page.getByTestId('share-recipient-add').click();
  await page.getByTestId('share-recipient-error').waitFor();
  const bob = generateIdentity('bob');
  await page.getByTestId('share-recipient-input').fill(bob.did);
  await page.getByTestId('share-recipient-add').click();
  await page.locator(`[data-testid="share-recipient"][data-did="${bob.did}"]`).waitFor();
  // This browser's own identity is offered.
  const me = await meOf(page);
  await page.locator(`[data-testid="share-known-identity"][data-did="${me.did}"]`).click();
  assert.equal(await page.getByTestId('share-recipient').count(), 2);
  assert.match(await page.getByTestId('share-private-note').innerText(), /new share/);
  const other = await randomFile(work, 'notes.txt', 5_000);
  await page.getByTestId('share-input').setInputFiles(other.path);
  const peopleResult = page.locator('[data-testid="share-result"]').first();
  await until('the people share', async () => ((await peopleResult.getAttribute('data-infohash')) !== linkHash ? true : undefined), 60_000);
  const peopleHash = (await peopleResult.getAttribute('data-infohash'))!;
  assert.equal(await peopleResult.getByTestId('share-link').count(), 0, 'a share for people has no link');
  await peopleResult.getByTestId('share-encrypted-note').waitFor();
  const torrent = Buffer.from(await (await nodeFetch(node, `/api/torrents/${peopleHash}/torrent`)).arrayBuffer());
  assert.ok(torrent.includes(Buffer.from(INFO_KEY)), 'the .torrent carries the envelopes in its info dictionary');
  assert.ok(!torrent.includes(Buffer.from('notes.txt')), 'and not the real name');

  // The list marks both; both are readable here.
  await page.goto(`${node.url}/#/torrents`);
  for (const ih of [linkHash, peopleHash]) {
    const badge = page.locator(`[data-testid="torrent-row"][data-infohash="${ih}"] [data-testid="torrent-encrypted"]`);
    await badge.waitFor({ timeout: 15_000 });
    assert.equal(await badge.getAttribute('data-decryptable'), 'true');
  }
  assert.deepEqual(errors, []);
});

test('“Only these people” offers the signed-in user’s chat contacts, by name', async (t) => {
  const node = await startTestServer(t);
  const page = await (await browserContext(t)).newPage();
  const errors = collectErrors(page);
  // Opening the chat puts this browser's chat profile on the node, so others can write to it.
  await openAsOwner(page, `${node.url}/#/chat`);
  const me = await meOf(page);
  const carol = chatIdentity('Carol');
  const socket = ioClient(`${node.url}/chat`, { transports: ['websocket'], autoConnect: false, forceNew: true });
  const chat = new ChatClient({ identity: carol, socket, rtc: null });
  t.after(() => chat.close());
  await chat.start();
  const conv = chat.openDm(me.did!);
  await until('Carol to write to the page’s user', async () => chat.sendText(conv.id, 'files for me?').then(() => true, () => undefined), 20_000, 250);

  await page.goto(`${node.url}/#/share`);
  await page.getByTestId('share-audience-recipients').check();
  const pick = page.locator(`[data-testid="share-known-identity"][data-did="${carol.did}"]`);
  await pick.waitFor({ timeout: 15_000 });
  assert.match(await pick.innerText(), /Chat: Carol/);
  await pick.click();
  await page.locator(`[data-testid="share-recipient"][data-did="${carol.did}"]`).waitFor();
  assert.deepEqual(errors, []);
});

test('a share for other people: marked, explained, no files offered', async (t) => {
  const node = await startTestServer(t);
  const work = await tempDir(t, 'files');
  const secret = await randomFile(work, 'salaries.xlsx', 100_000);
  // Made for a stranger with the CLI's sealing, then added to this node by its .torrent.
  const stranger = generateIdentity('stranger');
  const sealed = await sealFiles(secret.path, work, [recipientKeyFromDid(stranger.did)]);
  const { torrent, metainfo } = await createTorrent(sealed.cipherPath, { extraInfo: { [INFO_KEY]: sealed.info as never } });
  const torrentPath = join(work, 'other.torrent');
  await writeFile(torrentPath, torrent);
  const form = new FormData();
  form.append('torrent', new Blob([new Uint8Array(torrent)]), 'other.torrent');
  assert.equal((await nodeFetch(node, '/api/torrents', { method: 'POST', body: form })).status, 201);
  const detail = await until('the node to look at the share', async () => {
    const d = await nodeJson<Detail>(node, `/api/torrents/${metainfo.infoHashHex}`);
    return d.encrypted && d.error ? d : undefined;
  }, 15_000);
  assert.equal(detail.decryptable, false);
  assert.deepEqual(detail.files, []);

  const page = await (await browserContext(t)).newPage();
  await openAsOwner(page, `${node.url}/#/torrents/${metainfo.infoHashHex}`);
  const note = page.getByTestId('detail-encrypted-for-others');
  await note.waitFor({ timeout: 15_000 });
  assert.match(await note.innerText(), /encrypted for other people/);
  assert.equal(await page.getByTestId('detail-encrypted').getAttribute('data-decryptable'), 'false');
  assert.ok(!(await page.locator('body').innerText()).includes('salaries'), 'no real name on the page');
  const row = page.locator(`[data-testid="torrent-row"][data-infohash="${metainfo.infoHashHex}"] [data-testid="torrent-encrypted"]`);
  assert.equal(await row.getAttribute('data-decryptable'), 'false');
});

test('a tab signed in with a recipient’s key downloads a share made for it and saves the plaintext', async (t) => {
  const node = await startTestServer(t);
  const work = await tempDir(t, 'files');
  const file = await randomFile(work, 'for-the-tab.bin', 1_500_000);
  const page = await (await browserContext(t)).newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);
  const me = await meOf(page);
  assert.match(me.did ?? '', /^did:key:z6Mk/);

  // The node shares it for the tab's did (and itself); the tab has only the magnet.
  const form = new FormData();
  form.append('recipients', me.did!);
  form.append('file', new Blob([new Uint8Array(await readFile(file.path))]), 'for-the-tab.bin');
  const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: form });
  const share = (await res.json()) as { infoHash: string; magnet: string; name: string };
  assert.equal(res.status, 201, JSON.stringify(share));

  await page.goto(`${node.url}/#/add`);
  await page.getByTestId('add-target-browser').click();
  await page.getByTestId('add-uri-input').fill(share.magnet);
  await page.getByTestId('add-uri-submit').click();
  await page.waitForURL(/#\/torrents$/);
  const row = page.locator(`[data-testid="browser-torrent-row"][data-infohash="${share.infoHash}"]`);
  await row.waitFor({ timeout: 15_000 });
  await until('the in-browser download to finish', async () => Number(await row.getAttribute('data-progress')) >= 1, 90_000, 250);
  await until('the tab to open the share', async () => ((await row.getByTestId('browser-encrypted').getAttribute('data-decryptable')) === 'true' ? true : undefined), 15_000);
  assert.match(await row.locator('button.name').innerText(), /for-the-tab\.bin/, 'the real name, not the neutral one');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 30_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}; the row says: ${await row.innerText()}; page errors: ${errors.join(' | ')}`);
    }),
    row.getByTestId('browser-save').click(),
  ]);
  assert.equal(download.suggestedFilename(), 'for-the-tab.bin');
  const bytes = await readFile((await download.path())!);
  assert.equal(bytes.length, file.size);
  assert.equal(sha1(bytes), file.sha1, 'the tab saved the plaintext byte for byte');
  assert.deepEqual(errors, []);
});
