// Sign-in and roles in real Chromium against a real node (all on 127.0.0.1, in a loopback-only
// network namespace): the first browser claims the fresh node; a second browser (its own profile,
// so its own IndexedDB key) signs in as a visitor, sees none of the node's torrents, chats with the
// owner, and sees the torrents — without a reload — once the owner adds it in Settings → Users; a
// verified Cascade peer shows its did in the peers tab; and a browser with an Ethereum wallet
// (an injected EIP-1193 provider signing with viem in Node) signs in with SIWE.
// Screenshots go to packages/web/test/screenshots/ (not in git).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { Session, createTorrent } from '@cascade/engine';
import { cascadeExtension, generateIdentity, shortDid } from '@cascade/identity';
import { addMember, buildUi, claimCodeFor, collectErrors, browserContext, meOf, nodeFetch, openAsOwner, screenshot, startTestServer, tempDir, until, type TestServer } from './helpers.ts';

before(async () => {
  await buildUi();
});

/** Puts a torrent on the node as its operator: a magnet nobody serves, so it stays in "metadata". */
async function addNodeTorrent(node: TestServer, name: string): Promise<string> {
  const infoHash = randomBytes(20).toString('hex');
  const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${infoHash}&dn=${name}` }) });
  assert.ok(res.ok, `POST /api/torrents: ${res.status} ${await res.text()}`);
  return infoHash;
}

/** Counts the page's API answers with `status` (a visitor's page should cause none on its own). */
function countStatus(page: Page, status: number): { n: number } {
  const c = { n: 0 };
  page.on('response', (r) => {
    if (r.status() === status && new URL(r.url()).pathname.startsWith('/api/')) c.n++;
  });
  return c;
}

async function openChatTab(page: Page, name: string): Promise<void> {
  await page.getByTestId('chat-nav').click();
  await page.locator('[data-testid=chat-connection][data-ready=yes]').waitFor({ timeout: 20_000 });
  const input = page.getByTestId('chat-my-name');
  await input.fill(name);
  await input.press('Enter');
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-message-input').fill(text);
  await page.getByTestId('chat-send').click();
}

const message = (page: Page, text: string) => page.locator('[data-testid=chat-message]', { hasText: text });

test('first run, a visitor who chats and is then made a member, and a verified peer in the peers tab', { timeout: 300_000 }, async (t) => {
  const node = await startTestServer(t);
  const a = await (await browserContext(t)).newPage();
  const errorsA = collectErrors(a);

  await t.test('first run: a fresh node offers this browser to claim it; claiming makes it the owner', async () => {
    await a.goto(node.url);
    await a.getByTestId('first-run').waitFor();
    assert.equal(await a.getByTestId('sign-in').count(), 0, 'first run comes instead of the sign-in screen');
    const before = await meOf(a);
    assert.deepEqual([before.signedIn, before.claimed, before.claimable], [false, false, true]);
    await a.locator('[data-testid=sign-in-key] .mono').waitFor(); // the key's short did, once made
    await screenshot(a, 'auth-01-first-run');
    await a.emulateMedia({ colorScheme: 'dark' });
    await screenshot(a, 'auth-01-first-run-dark');
    await a.emulateMedia({ colorScheme: 'light' });

    await a.getByTestId('claim-code').fill(claimCodeFor(node.url));
    await a.getByTestId('claim-node').click();
    await a.locator('[data-testid=whoami].role-owner').waitFor({ timeout: 20_000 });
    await a.getByRole('heading', { name: 'Torrents' }).waitFor();
    await until('the live socket', () => a.locator('[data-testid="conn-status"].conn-ok').count(), 10_000);
    const me = await meOf(a);
    assert.equal(me.role, 'owner');
    assert.equal(me.signedIn, true);
    assert.match(me.did ?? '', /^did:key:z6Mk/);
    assert.deepEqual([me.claimed, me.claimable], [true, false]);
    assert.match(await a.getByTestId('whoami').innerText(), /did:key:z6Mk[\s\S]*owner/);
    await screenshot(a, 'auth-02-owner-torrents');
  });

  const secret = await addNodeTorrent(node, 'owners-only');
  await a.locator(`[data-testid=torrent-row][data-infohash="${secret}"]`).waitFor();

  const b = await (await browserContext(t)).newPage();
  const errorsB = collectErrors(b);
  const b401 = countStatus(b, 401);
  let didB = '';

  await t.test('a second browser signs in with its own key: a visitor who sees none of the node’s torrents', async () => {
    await b.goto(node.url);
    await b.getByTestId('sign-in').waitFor();
    assert.equal(await b.getByTestId('first-run').count(), 0, 'a claimed node shows no first run');
    await b.locator('[data-testid=sign-in-key] .mono').waitFor();
    await screenshot(b, 'auth-03-sign-in');
    await b.getByTestId('sign-in-key').click();
    await b.locator('[data-testid=whoami].role-visitor').waitFor({ timeout: 20_000 });
    const me = await meOf(b);
    assert.equal(me.role, 'visitor');
    didB = me.did!;
    assert.match(didB, /^did:key:z6Mk/);
    assert.notEqual(didB, (await meOf(a)).did, 'another browser profile, another key');

    const notice = b.getByTestId('visitor-notice');
    await notice.waitFor();
    assert.match(await notice.innerText(), /signed in as a visitor/);
    assert.ok((await notice.innerText()).includes(didB), 'the notice names the did to hand the owner');
    await b.waitForTimeout(2500); // time for anything that would list the node's torrents
    assert.equal(await b.locator('[data-testid=torrent-row]').count(), 0);
    assert.ok(!(await b.locator('body').innerText()).includes('owners-only'), 'the owner’s torrent is not shown');
    assert.equal(await b.getByTestId('conn-status').count(), 0, 'no live socket for a visitor');
    // Share and Add offer only this browser.
    await b.getByTestId('nav-share').click();
    await b.getByTestId('share-mode-browser').waitFor();
    assert.equal(await b.getByTestId('share-mode-node').count(), 0);
    await b.getByTestId('nav-add').click();
    await b.getByTestId('add-target-browser').waitFor();
    assert.equal(await b.getByTestId('add-target-node').count(), 0);
    await b.getByTestId('nav-torrents').click();
    await notice.waitFor();
    await screenshot(b, 'auth-04-visitor');
    assert.deepEqual(errorsB, [], 'the visitor’s page asks for nothing it may not have');

    const status = await b.evaluate(async () => (await fetch('/api/torrents')).status);
    assert.equal(status, 403, 'the API refuses a signed-in visitor');
    errorsB.length = 0;
  });

  // A visitor's in-tab peer finds other browsers through the node's WebSocket tracker, which it
  // learns from the public part of /api/health.
  await t.test('a visitor shares from this browser: the magnet names the node’s WebSocket tracker', async (tt) => {
    const work = await tempDir(tt, 'visitor-share');
    await writeFile(join(work, 'from-a-visitor.bin'), randomBytes(64 * 1024));
    await b.getByTestId('nav-share').click();
    await b.getByTestId('share-input').setInputFiles(join(work, 'from-a-visitor.bin'));
    const result = b.locator('[data-testid="share-result"][data-where="browser"]');
    await result.or(b.getByTestId('share-error')).first().waitFor({ timeout: 30_000 }).catch(async (err: Error) => {
      await screenshot(b, 'fail-visitor-share');
      throw err;
    });
    // The message only when there is an error: innerText() of a missing element waits 30 s.
    if ((await b.getByTestId('share-error').count()) > 0) assert.fail(await b.getByTestId('share-error').innerText());
    assert.match(await result.getByTestId('magnet-link').inputValue(), /tr=ws%3A%2F%2F127\.0\.0\.1/);
  });

  await t.test('the visitor and the owner chat', async () => {
    await openChatTab(a, 'Owner');
    await openChatTab(b, 'Visitor');
    await a.getByTestId('chat-new-dm').fill(didB);
    await a.getByTestId('chat-new-dm').press('Enter');
    await say(a, 'AUTH-1 welcome, visitor');
    await b.getByTestId('chat-room-list').locator('[data-testid=chat-room-entry]', { hasText: 'Owner' }).first().click();
    await message(b, 'AUTH-1 welcome').waitFor();
    await say(b, 'AUTH-2 thanks, please add me');
    await message(a, 'AUTH-2 thanks').waitFor();
    await screenshot(b, 'auth-05-visitor-chat');
  });

  await t.test('the owner adds the visitor in Settings → Users; the visitor sees the torrents without a reload', async () => {
    await b.getByTestId('nav-torrents').click();
    await b.getByTestId('visitor-notice').waitFor();
    await b.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));

    await a.getByTestId('nav-settings').click();
    const users = a.getByTestId('users-section');
    await users.locator('[data-testid=user-row][data-role=owner]').waitFor();
    assert.equal(await users.locator('[data-testid=user-row][data-role=owner] [data-testid=user-remove]').count(), 0, 'no remove button on the owner');
    await users.getByTestId('user-add-input').fill('not-an-id');
    await users.getByTestId('user-add').click();
    await users.getByTestId('users-error').waitFor();
    await users.getByTestId('user-add-input').fill(didB);
    await users.getByTestId('user-add').click();
    await users.locator(`[data-testid=user-row][data-id="${didB}"][data-role=member]`).waitFor();
    assert.equal(await users.getByTestId('user-add-input').inputValue(), '');
    await screenshot(a, 'auth-06-users');

    await b.locator('[data-testid=whoami].role-member').waitFor({ timeout: 15_000 });
    await b.locator(`[data-testid=torrent-row][data-infohash="${secret}"]`).waitFor({ timeout: 15_000 });
    await until('the member’s live socket', () => b.locator('[data-testid="conn-status"].conn-ok').count(), 10_000);
    assert.equal(await b.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'no reload');
    assert.equal(await b.getByTestId('visitor-notice').count(), 0);
    assert.equal(await b.evaluate(async () => (await fetch('/api/torrents')).status), 200);
    assert.equal((await meOf(b)).role, 'member');
    await screenshot(b, 'auth-07-member-torrents');
  });

  await t.test('removing the member makes it a visitor again', async () => {
    const row = a.locator(`[data-testid=user-row][data-id="${didB}"]`);
    await row.getByTestId('user-remove').click();
    await row.waitFor({ state: 'detached' });
    await b.locator('[data-testid=whoami].role-visitor').waitFor({ timeout: 20_000 });
    await b.getByTestId('visitor-notice').waitFor();
    assert.equal(await b.locator('[data-testid=torrent-row]').count(), 0);
    assert.equal(b401.n, 0, 'the visitor’s page caused no 401');
  });

  await t.test('peers tab: a verified Cascade peer shows its short did and reputation', async (tt) => {
    // A Cascade engine session speaking the identity extension holds the first half of a file;
    // the node fetches that half from it and keeps the connection (neither side is a seed).
    const root = await tempDir(tt, 'cascade-peer');
    const file = join(root, 'half-there.bin');
    const size = 1024 * 1024;
    await mkdir(root, { recursive: true });
    await writeFile(file, randomBytes(size));
    const { torrent, metainfo } = await createTorrent(file, { pieceLength: 64 * 1024 });
    const half = Buffer.alloc(size);
    (await readFile(file)).copy(half, 0, 0, size / 2);
    await writeFile(file, half);
    const peerId = generateIdentity('peer');
    const session = await Session.create({
      host: '127.0.0.1', port: 0, dht: false, webrtc: false,
      extensions: [cascadeExtension(peerId, { client: 'Cascade test peer', onIdentified: () => {} })],
    });
    tt.after(() => session.close());
    const held = await session.add(torrent, { savePath: root });
    await until('the peer to check its half', () => held.stats().progress >= 0.5, 20_000);

    const ih = metainfo.infoHashHex;
    const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${ih}&dn=half-there.bin&x.pe=127.0.0.1:${session.port}` }) });
    assert.ok(res.ok, `${res.status}`);
    await a.goto(`${node.url}/#/torrents/${ih}`);
    const panel = a.getByTestId('detail-panel');
    await panel.getByTestId('detail-tab-peers').click();
    const badge = panel.getByTestId('peer-did');
    await badge.waitFor({ timeout: 30_000 });
    assert.equal(await badge.getAttribute('data-did'), peerId.did);
    assert.match((await badge.textContent()) ?? '', new RegExp(`^${shortDid(peerId.did).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} · rep \\d\\.\\d\\d$`));
    await screenshot(a, 'auth-08-peer-did');
  });

  assert.deepEqual(errorsA, [], 'no errors in the owner’s page');
});

test('Sign-In with Ethereum through an injected EIP-1193 wallet; the address made a member sees the torrents; a linked wallet covers the key sign-in', { timeout: 240_000 }, async (t) => {
  const node = await startTestServer(t);
  const owner = await (await browserContext(t)).newPage();
  await openAsOwner(owner, node.url);
  const secret = await addNodeTorrent(node, 'for-members');

  const account = privateKeyToAccount(generatePrivateKey());
  const signed: string[] = [];
  const context = await browserContext(t, { dark: true });
  await context.exposeFunction('__walletSign', async (hex: string, address: string) => {
    assert.equal(address.toLowerCase(), account.address.toLowerCase(), 'personal_sign for the wallet’s account');
    signed.push(Buffer.from(hex.slice(2), 'hex').toString('utf8'));
    return account.signMessage({ message: { raw: hex as `0x${string}` } });
  });
  await context.addInitScript(({ address }) => {
    const w = window as unknown as { ethereum: unknown; __walletSign(hex: string, address: string): Promise<string> };
    w.ethereum = {
      async request({ method, params }: { method: string; params?: unknown[] }) {
        if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [address];
        if (method === 'eth_chainId') return '0x1';
        if (method === 'personal_sign') return w.__walletSign(String(params?.[0]), String(params?.[1]));
        throw Object.assign(new Error(`unsupported: ${method}`), { code: 4200 });
      },
    };
  }, { address: account.address });
  const c = await context.newPage();
  const errors = collectErrors(c);
  const c401 = countStatus(c, 401);

  await t.test('sign in with the wallet: a visitor known by its address', async () => {
    await c.goto(node.url);
    await c.getByTestId('sign-in-wallet').waitFor();
    await screenshot(c, 'auth-09-sign-in-wallet-dark');
    await c.getByTestId('sign-in-wallet').click();
    await c.locator('[data-testid=whoami].role-visitor').waitFor({ timeout: 20_000 });
    const host = new URL(node.url).host;
    assert.equal(signed.length, 1);
    assert.ok(signed[0]!.startsWith(`${host} wants you to sign in with your Ethereum account:\n${account.address}`), signed[0]);
    const me = await meOf(c);
    assert.equal(me.address?.toLowerCase(), account.address.toLowerCase());
    assert.equal(me.did, null);
    assert.equal(me.role, 'visitor');
    assert.match(await c.getByTestId('whoami').innerText(), new RegExp(`${account.address.slice(0, 6)}…${account.address.slice(-4)}`, 'i'));
    await c.getByTestId('visitor-notice').waitFor();
    assert.ok((await c.getByTestId('visitor-notice').innerText()).includes(me.address!));
    await screenshot(c, 'auth-10-wallet-visitor-dark');
  });

  await t.test('the operator adds the address as a member: the page shows the node’s torrents', async () => {
    await addMember(node, account.address);
    await c.locator('[data-testid=whoami].role-member').waitFor({ timeout: 15_000 });
    await c.locator(`[data-testid=torrent-row][data-infohash="${secret}"]`).waitFor({ timeout: 15_000 });
    await screenshot(c, 'auth-11-wallet-member-dark');
  });

  await t.test('Settings links the wallet to this browser’s key; after sign-out the key sign-in is the member too', async () => {
    await c.getByTestId('nav-settings').click();
    await c.getByTestId('link-wallet').click();
    await until('the linked wallet', async () => (await c.getByTestId('identity-linked').innerText()).trim() === account.address, 15_000);
    assert.equal(signed.length, 2);
    assert.match(signed[1]!, /^Cascade identity binding\n/);
    await c.getByTestId('users-section').waitFor();
    await screenshot(c, 'auth-12-settings-linked-wallet-dark');

    await c.getByTestId('sign-out').click();
    await c.getByTestId('sign-in').waitFor();
    assert.equal((await meOf(c)).signedIn, false);
    await c.getByTestId('sign-in-key').click();
    await c.locator('[data-testid=whoami].role-member').waitFor({ timeout: 20_000 });
    const me = await meOf(c);
    assert.match(me.did ?? '', /^did:key:z6Mk/);
    assert.equal(me.address?.toLowerCase(), account.address.toLowerCase(), 'the binding brought the wallet’s account along');
    await c.getByTestId('nav-torrents').click();
    await c.locator(`[data-testid=torrent-row][data-infohash="${secret}"]`).waitFor();
  });

  assert.equal(c401.n, 0, 'no 401s from the wallet user’s page');
  assert.deepEqual(errors, []);
});
