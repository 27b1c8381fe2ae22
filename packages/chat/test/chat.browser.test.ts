// Chat in real Chromium: three users (three browser contexts) on one Cascade node (startServer + the
// built web app, Chat opened through the app's `chat-nav`). Each signs in to the node with its
// browser's own key first (the chat's identity): nobody claims the node, so all are visitors, and
// the chat is open to visitors. Run inside a loopback-only network namespace (npm test does this for
// *.browser.test.ts); see shared/browser-webrtc.md.
//
//   Alice — plain browser.
//   Bob   — his socket.io WebSocket runs through a test-controlled man in the middle that can tamper
//           with, re-sign or replay what the relay pushes to him.
//   Carol — WebRTC is blocked in her page (RTCPeerConnection throws), so her direct chats must use the relay.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { io as ioClient } from 'socket.io-client';
import { startServer, type RunningServer } from '@cascade/http';
import { AUTH_DOMAIN, b64u, generateIdentity, makeProfile, sealDirect, signBytes, signEnvelope } from '../index.ts';
import { utf8 } from '@cascade/identity';
import { buildUi } from '../../web/test/helpers.ts';
import { sharedContext } from '../../engine/test/chromium.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const WEB_DIST = resolve(HERE, '../../web/dist');
const SHOTS = join(HERE, 'screenshots');

async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `cascade-chat-${prefix}-`));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A user: a context of the file's one Chromium (../../engine/test/chromium.ts), a fresh profile of
 *  its own (storage, IndexedDB keys, cookies), without a Chromium start (~1.5 CPU-s) per user. */
async function launch(t: TestContext, init?: () => void): Promise<BrowserContext> {
  const context = await sharedContext(t, { viewport: { width: 1280, height: 820 } });
  await context.addInitScript(() => {
    localStorage.setItem('cascade.peer', JSON.stringify({ iceServers: [] }));
    localStorage.setItem('cascade.chat.debug', '1');
    const w = window as unknown as { __pcs: RTCPeerConnection[]; RTCPeerConnection: typeof RTCPeerConnection };
    w.__pcs = [];
    const Orig = w.RTCPeerConnection;
    if (typeof Orig === 'function') {
      const Recorded = function (this: unknown, ...args: ConstructorParameters<typeof RTCPeerConnection>) {
        const pc = new Orig(...args);
        w.__pcs.push(pc);
        return pc;
      } as unknown as typeof RTCPeerConnection;
      Recorded.prototype = Orig.prototype;
      Object.setPrototypeOf(Recorded, Orig);
      w.RTCPeerConnection = Recorded;
    }
  });
  if (init) await context.addInitScript(init);
  return context;
}

/** Chat diagnostics from every page (p2p negotiation), printed if a step fails. */
const diagnostics: string[] = [];

function collectErrors(page: Page, into: string[], who: string): void {
  page.on('pageerror', (e) => into.push(`${who} pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.text().startsWith('[chat]')) diagnostics.push(`${new Date().toISOString().slice(11, 23)} ${who} ${m.text()}`);
  });
}

async function openChat(context: BrowserContext, url: string, errors: string[], who: string): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  collectErrors(page, errors, who);
  await page.goto(url);
  // The sign-in screen (or, on this unclaimed node, the first-run screen) offers the key sign-in; a
  // browser that signed in before still has its session.
  const signIn = page.getByTestId('sign-in-key');
  const whoami = page.getByTestId('whoami');
  await signIn.or(whoami).first().waitFor({ timeout: 20_000 });
  if (await signIn.isVisible()) await signIn.click();
  await whoami.waitFor({ timeout: 20_000 });
  await page.getByTestId('chat-nav').click();
  await page.locator('[data-testid=chat-connection][data-ready=yes]').waitFor({ timeout: 20_000 });
  return page;
}

async function setName(page: Page, name: string): Promise<void> {
  const input = page.getByTestId('chat-my-name');
  await input.fill(name);
  await input.press('Enter');
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-message-input').fill(text);
  await page.getByTestId('chat-send').click();
}

function message(page: Page, text: string) {
  return page.locator('[data-testid=chat-message]', { hasText: text });
}

async function openConversation(page: Page, label: string): Promise<void> {
  await page.getByTestId('chat-room-list').locator('[data-testid=chat-room-entry]', { hasText: label }).first().click();
}

async function selectedPairs(page: Page): Promise<{ local: string; remote: string }[]> {
  return page.evaluate(async () => {
    const out: { local: string; remote: string }[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      const byId = new Map<string, Record<string, unknown>>();
      stats.forEach((r: Record<string, unknown>) => byId.set(r.id as string, r));
      let pairId: string | undefined;
      stats.forEach((r: Record<string, unknown>) => {
        if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') pairId = r.selectedCandidatePairId;
      });
      const pair = pairId ? byId.get(pairId) : undefined;
      if (!pair) continue;
      const l = byId.get(pair.localCandidateId as string);
      const r = byId.get(pair.remoteCandidateId as string);
      out.push({ local: String(l?.address ?? l?.ip), remote: String(r?.address ?? r?.ip) });
    }
    return out;
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Every file under dir (recursively), as latin1 text, for a byte search. */
async function allBytes(dir: string): Promise<{ files: string[]; text: string }> {
  const files: string[] = [];
  let text = '';
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    files.push(p.slice(dir.length + 1));
    text += (await readFile(p)).toString('latin1') + '\n';
  }
  return { files, text };
}

type Mitm = { mode: 'tamper' | 'wrongsig' | 'replay' | undefined; applied: string[]; lastSig?: string };

/** Bob's WebSocket to the node passes through here; pushes of group envelopes can be altered once per mode. */
function mitmHandler(state: Mitm) {
  return (ws: WebSocketRoute) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      const s = typeof m === 'string' ? m : m.toString('utf8');
      const match = /^42\/chat,(\[.*\])$/s.exec(s);
      if (!match) return ws.send(m);
      const frame = JSON.parse(match[1]!) as [string, { seq: number; env: Record<string, unknown> }];
      if (frame[0] !== 'env' || frame[1].env.type !== 'group' || !state.mode) {
        if (frame[0] === 'env') state.lastSig = frame[1].env.sig as string;
        return ws.send(m);
      }
      const env = frame[1].env;
      const mode = state.mode;
      state.mode = undefined;
      state.applied.push(mode);
      if (mode === 'replay') {
        ws.send(m);
        ws.send(m);
        return;
      }
      if (mode === 'tamper') {
        const ct = env.ct as string;
        env.ct = ct.slice(0, 10) + (ct[10] === 'A' ? 'B' : 'A') + ct.slice(11);
      } else {
        env.sig = state.lastSig ?? (env.sig as string).replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      }
      ws.send(`42/chat,${JSON.stringify(frame)}`);
    });
  };
}

test('chat in Chromium: DMs both ways over p2p and relay, groups, offline delivery, rejections; the node stores ciphertext only', { timeout: 240_000 }, async (t) => {
  // The web app as every browser test serves it (it holds this package's ChatPage), built once
  // for all of them when its sources changed, not once more into a directory of this file's own.
  await buildUi();
  const webRoot = WEB_DIST;
  const stateDir = await tempDir(t, 'state');
  const logs: string[] = [];
  const server: RunningServer = await startServer({
    chain: false, // no embedded chain: not what this is about
    stateDir, httpPort: 0, host: '127.0.0.1', btPort: 0, btHost: '127.0.0.1', dht: false, trackerPorts: false, webRoot,
    log: { event: (name, fields) => logs.push(`${name} ${JSON.stringify(fields ?? {})}`), say: (s) => logs.push(s), note: (s) => logs.push(s) },
  });
  let serverClosed = false;
  t.after(() => (serverClosed ? undefined : server.close()));
  await server.ready;
  const url = server.url;
  const errors: string[] = [];
  let failed = false;
  t.after(() => {
    if (failed) console.log(`chat diagnostics:\n${diagnostics.join('\n')}`);
  });
  const step = (name: string, fn: () => Promise<void>) => t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
  const sent: string[] = [];
  const say = async (page: Page, text: string) => {
    sent.push(text);
    await send(page, text);
  };

  const mitm: Mitm = { mode: undefined, applied: [] };
  const [ctxA, ctxB, ctxC] = await Promise.all([
    launch(t),
    launch(t),
    launch(t, () => {
      (window as unknown as { RTCPeerConnection: unknown }).RTCPeerConnection = function blocked() {
        throw new Error('WebRTC is blocked in this page');
      };
    }),
  ]);
  await ctxB.routeWebSocket(/\/socket\.io\//, mitmHandler(mitm));
  const [a, b] = await Promise.all([openChat(ctxA, url, errors, 'alice'), openChat(ctxB, url, errors, 'bob')]);
  let c = await openChat(ctxC, url, errors, 'carol');
  await setName(a, 'Alice');
  await setName(b, 'Bob');
  await setName(c, 'Carol');
  const didA = (await a.getByTestId('chat-my-did').textContent())!.trim();
  const didB = (await b.getByTestId('chat-my-did').textContent())!.trim();
  const didC = (await c.getByTestId('chat-my-did').textContent())!.trim();
  for (const d of [didA, didB, didC]) assert.match(d, /^did:key:z6Mk/);
  assert.equal(new Set([didA, didB, didC]).size, 3);

  await step('two users exchange direct messages both ways', async () => {
    await a.getByTestId('chat-new-dm').fill(didB);
    await a.getByTestId('chat-new-dm').press('Enter');
    await say(a, 'PT-dm-1 hello Bob, this is Alice');
    await b.getByTestId('chat-room-list').locator('[data-testid=chat-room-entry]', { hasText: 'Alice' }).waitFor();
    await openConversation(b, 'Alice');
    await message(b, 'PT-dm-1 hello Bob').waitFor();
    await say(b, 'PT-dm-2 hi Alice, Bob here');
    await message(a, 'PT-dm-2 hi Alice').waitFor();
    // the entry names the peer
    assert.match(await a.getByTestId('chat-room-list').textContent() ?? '', /Bob/);
  });

  await step('a direct chat switches to p2p when both are online, on 127.0.0.1 only', async () => {
    await a.locator('[data-testid=chat-path]', { hasText: 'p2p' }).waitFor({ timeout: 30_000 });
    await b.locator('[data-testid=chat-path]', { hasText: 'p2p' }).waitFor({ timeout: 30_000 });
    await say(a, 'PT-dm-3 this one goes peer to peer');
    await b.locator('[data-testid=chat-message][data-via=p2p]', { hasText: 'PT-dm-3' }).waitFor();
    await say(b, 'PT-dm-3b and back over the data channel');
    await a.locator('[data-testid=chat-message][data-via=p2p]', { hasText: 'PT-dm-3b' }).waitFor();
    for (const page of [a, b]) {
      const pairs = await selectedPairs(page);
      assert.ok(pairs.length >= 1, 'a connected peer connection with a selected pair');
      for (const p of pairs) assert.deepEqual([p.local, p.remote], ['127.0.0.1', '127.0.0.1'], JSON.stringify(pairs));
    }
    await shot(a, 'chat-dm-p2p-alice');
  });

  await step('with WebRTC blocked, the direct chat stays on the relay and still delivers both ways', async () => {
    await a.getByTestId('chat-new-dm').fill(didC);
    await a.getByTestId('chat-new-dm').press('Enter');
    await say(a, 'PT-dm-4 Carol, can you read this?');
    await openConversation(c, 'Alice');
    await message(c, 'PT-dm-4 Carol').waitFor();
    await say(c, 'PT-dm-5 yes, through the relay');
    await message(a, 'PT-dm-5 yes').waitFor();
    await new Promise((r) => setTimeout(r, 3000)); // time for a p2p attempt to fail
    assert.equal(await a.getByTestId('chat-path').textContent(), 'relay');
    assert.equal(await c.getByTestId('chat-path').textContent(), 'relay');
    assert.equal(await c.locator('[data-testid=chat-message][data-via=p2p]').count(), 0);
    await shot(c, 'chat-dm-relay-carol');
  });

  let groupId = '';
  await step('a private group: uninvited join rejected; invited members see group messages', async () => {
    await a.getByTestId('chat-new-group').fill('Team');
    await a.getByTestId('chat-new-group').press('Enter');
    const entry = a.locator('[data-testid=chat-room-entry].cc-active', { hasText: 'Team' });
    await entry.waitFor();
    groupId = (await entry.getAttribute('data-conv'))!;
    assert.match(groupId, /^g:/);
    // Carol was not invited
    await c.getByTestId('chat-join-room').fill(groupId);
    await c.getByTestId('chat-join-room').press('Enter');
    await c.locator('[data-testid=chat-error]', { hasText: 'invitation' }).waitFor();
    assert.equal(await c.locator(`[data-testid=chat-room-entry][data-conv="${groupId}"]`).count(), 0);
    await shot(c, 'chat-uninvited-join-carol');
    // Alice invites Bob and Carol
    await a.locator('.cc-members summary').click();
    for (const d of [didB, didC]) {
      await a.getByTestId('chat-invite-input').fill(d);
      await a.getByTestId('chat-invite-send').click();
      await a.waitForFunction(() => (document.querySelector('[data-testid=chat-invite-input]') as HTMLInputElement).value === '');
    }
    for (const p of [b, c]) {
      await p.getByTestId('chat-invite').filter({ hasText: 'Team' }).getByTestId('chat-invite-accept').click();
      await p.locator(`[data-testid=chat-room-entry][data-conv="${groupId}"]`).waitFor();
    }
    await a.locator('.cc-members li', { hasText: 'Carol' }).waitFor();
    await say(a, 'PT-group-6 welcome to the team');
    await message(b, 'PT-group-6').waitFor();
    await message(c, 'PT-group-6').waitFor();
    await say(c, 'PT-group-7 thanks, Carol here');
    await openConversation(a, 'Team');
    await message(a, 'PT-group-7').waitFor();
    await message(b, 'PT-group-7').waitFor();
    await shot(c, 'chat-group-carol');
  });

  await step('tampered ciphertext, a wrong signature, a replay and undecryptable ciphertext are rejected visibly', async () => {
    await openConversation(b, 'Team');
    await openConversation(a, 'Team');
    const bad = b.locator('[data-testid=chat-error][data-code=bad-signature]');
    // the relay's push to Bob is altered in transit
    mitm.mode = 'tamper';
    await say(a, 'PT-group-8 tampered in transit');
    await bad.first().waitFor();
    // Bob's client fetches the stored copy again: the genuine message still arrives, once
    await message(b, 'PT-group-8').waitFor();
    mitm.mode = 'wrongsig';
    await say(a, 'PT-group-9 signature swapped in transit');
    await b.locator('[data-testid=chat-error][data-code=bad-signature]').nth(1).waitFor();
    await message(b, 'PT-group-9').waitFor();
    mitm.mode = 'replay';
    await say(a, 'PT-group-10 replayed in transit');
    await b.locator('[data-testid=chat-error][data-code=replay]').waitFor();
    assert.deepEqual(mitm.applied, ['tamper', 'wrongsig', 'replay']);
    await message(c, 'PT-group-10').waitFor();
    await b.waitForTimeout(800);
    for (const text of ['PT-group-8', 'PT-group-9', 'PT-group-10']) assert.equal(await message(b, text).count(), 1, text);
    // a signed envelope whose ciphertext does not decrypt (sent by a Node client as "Mallory")
    const mallory = generateIdentity('Mallory');
    const sock = ioClient(`${url}/chat`, { transports: ['websocket'], forceNew: true, reconnection: false });
    t.after(() => sock.close());
    const ack = (ev: string, arg: unknown) => new Promise<any>((res) => sock.emit(ev, arg, res));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const { nonce } = await ack('auth:challenge', {});
    assert.equal((await ack('auth', { did: mallory.did, sig: b64u(signBytes(mallory, AUTH_DOMAIN, utf8(`${nonce}|${mallory.did}`))), profile: makeProfile(mallory) })).ok, true);
    const { profiles } = await ack('profile:get', { dids: [didB] });
    const env = sealDirect(mallory, { did: didB, dh: Uint8Array.from(Buffer.from(profiles[0].dh, 'base64url')) }, 'dm', { kind: 'text', text: 'PT-garbled-11' }, { ctr: 0 });
    sent.push('PT-garbled-11');
    const garbled = signEnvelope(mallory, { ...env, ct: env.ct.slice(0, 12) + (env.ct[12] === 'A' ? 'B' : 'A') + env.ct.slice(13) });
    assert.equal((await ack('send', { envs: [garbled] })).ok, true);
    await b.locator('[data-testid=chat-error][data-code=decrypt-failed]').waitFor();
    assert.equal(await message(b, 'PT-garbled-11').count(), 0);
    sock.close();
    await shot(b, 'chat-rejections-bob');
  });

  await step('a user offline during a message receives it on return', async () => {
    await c.close();
    await a.getByTestId('chat-room-list').locator('[data-testid=chat-room-entry]', { hasText: 'Carol' }).click();
    await a.locator('.cc-head-sub', { hasText: 'offline' }).waitFor({ timeout: 15_000 });
    await say(a, 'PT-offline-12 sent while you were away');
    await a.locator('[data-testid=chat-message][data-status=sent]', { hasText: 'PT-offline-12' }).waitFor();
    c = await openChat(ctxC, url, errors, 'carol');
    await openConversation(c, 'Alice');
    await message(c, 'PT-offline-12').waitFor();
    await message(c, 'PT-dm-4').waitFor(); // and the history before it
    await shot(c, 'chat-offline-return-carol');
  });

  await step('the safety number matches on both sides', async () => {
    await openConversation(a, 'Bob');
    await openConversation(b, 'Alice');
    await a.getByTestId('chat-safety-toggle').click();
    await b.getByTestId('chat-safety-toggle').click();
    const na = await a.getByTestId('chat-safety-number').textContent();
    const nb = await b.getByTestId('chat-safety-number').textContent();
    assert.match(na ?? '', /^\d{5}( \d{5}){11}$/);
    assert.equal(na, nb);
    await shot(a, 'chat-safety-alice');
  });

  await step('an identity exported with a passphrase imports into another browser, with its history', async () => {
    await openConversation(a, 'Bob');
    await a.getByTestId('chat-export').click();
    await a.getByTestId('chat-export-pass').fill('correct horse battery');
    const [download] = await Promise.all([a.waitForEvent('download'), a.getByRole('button', { name: 'Download encrypted identity' }).click()]);
    const file = join(await tempDir(t, 'export'), 'identity.json');
    await download.saveAs(file);
    const exported = JSON.parse(await readFile(file, 'utf8')) as { format: string; did: string; kdf: { name: string } };
    assert.equal(exported.format, 'cascade-identity');
    assert.equal(exported.did, didA);
    assert.equal(exported.kdf.name, 'scrypt');
    const ctxD = await launch(t);
    const d = await openChat(ctxD, url, errors, 'dave');
    d.on('dialog', (dialog) => void dialog.accept());
    assert.notEqual((await d.getByTestId('chat-my-did').textContent())!.trim(), didA);
    await d.getByTestId('chat-import').click();
    await d.getByTestId('chat-import-file').setInputFiles(file);
    await d.getByTestId('chat-import-pass').fill('not the passphrase');
    await d.getByRole('button', { name: 'Import identity' }).click();
    await d.locator('.cc-status', { hasText: 'wrong passphrase' }).waitFor();
    await d.getByTestId('chat-import-pass').fill('correct horse battery');
    await d.getByRole('button', { name: 'Import identity' }).click();
    await d.locator('[data-testid=chat-my-did]', { hasText: didA }).waitFor();
    await openConversation(d, 'Bob');
    await message(d, 'PT-dm-1').waitFor();
    await message(d, 'PT-dm-2').waitFor();
    await shot(d, 'chat-imported-identity');
    await ctxD.close();
  });

  await step('the node\'s files and logs contain none of the plaintext', async () => {
    for (const ctx of [ctxA, ctxB, ctxC]) await ctx.close();
    await server.close();
    serverClosed = true;
    const { files, text } = await allBytes(stateDir);
    assert.ok(files.includes('chat.db'), files.join());
    assert.ok(text.includes('"ct":"') && text.includes(didA), 'the chat database holds the envelopes');
    const logText = logs.join('\n');
    assert.ok(logText.includes('chat: stored'), 'the server logged the relayed envelopes');
    assert.ok(sent.length >= 12);
    for (const p of sent) {
      assert.ok(!text.includes(p), `state files contain "${p}"`);
      assert.ok(!logText.includes(p), `logs contain "${p}"`);
      // and not a distinctive fragment either
      const frag = p.split(' ').slice(1, 3).join(' ');
      if (frag.length > 6) assert.ok(!text.includes(frag) && !logText.includes(frag), `fragment "${frag}"`);
    }
    assert.deepEqual(errors, []);
  });
});
