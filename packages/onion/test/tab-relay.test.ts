// Tab relays (docs/onion.md, "Tab relays") with the browser code run in Node: the page's WebSocket
// is Node's own and its RTCPeerConnection is node-datachannel's polyfill bound to 127.0.0.1, so the
// same modules a page loads build real WebRTC links here. Chromium runs them in
// packages/web/test/private-discovery-tab-relay.browser.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateIdentity, utf8 } from '@cascade/identity';
import { CELL_SIZE, OnionClient, directoryRelays, openOffer, sealAnswer, sealOffer, SEAL_BLOCK, signDescriptor, signRegistration, type AnnounceRequest, type OnionEvent, b64u } from '../index.ts';
import { browserDialer, startTabRelay } from '../browser.ts';
import { contains, directory, relays, type Observed } from './helpers.ts';
import { INFO_HASH, announce, exit, registered, signalSession, tabRelayWorld, until, usePolyfillRTC } from './rtc-helpers.ts';

usePolyfillRTC();

test('a browser client builds a circuit whose first hop is a tab relay reached over WebRTC; the tab sees no request', async (t) => {
  const seen: Observed[] = [];
  const asked: AnnounceRequest[] = [];
  const tabSeen: Observed[] = [];
  const events: OnionEvent[] = [];
  // Two node relays: a 3-hop path needs a third relay on another host, which only the tab is.
  const { rs, tab, client } = await tabRelayWorld(t, ['127.0.0.41', '127.0.0.42'], {
    exit: exit(asked),
    seen,
    tab: { observe: (e) => tabSeen.push({ relay: 'tab', link: e.link.remote, direction: e.direction, size: e.cell.length, cell: e.cell.slice(), ...(e.peeled ? { peeled: e.peeled.slice() } : {}) }) },
    client: { onEvent: (e) => events.push(e) },
  });
  const d = tab.descriptor()!;
  assert.equal(d.exit, null, 'a tab is never an exit');
  assert.ok(d.rtc && !d.tcp && !d.ws, 'a tab has an rtc address only');
  assert.ok(rs.some((r) => r.relay.descriptor().signal === d.rtc), 'it signals through one of the node relays');
  assert.equal(rs.reduce((n, r) => n + (r.relay.signal?.tabs ?? 0), 0), 1);

  const answer = (await client.request(announce())) as { ok: boolean };
  assert.equal(answer.ok, true);
  assert.equal(asked[0]?.infoHash, INFO_HASH);
  const built = events.find((e) => e.type === 'circuit-built');
  assert.ok(built && built.type === 'circuit-built');
  assert.equal(built.path[0], tab.status().did, 'the tab is the first hop');
  assert.equal(new Set(built.path).size, 3);
  assert.equal(tab.status().circuits, 1);
  assert.equal(tab.status().links, 1, 'one data channel from the client');
  assert.ok(tab.status().relayedCells > 0);

  // Cells on the tab's links are cells: the same size in both directions, the request unreadable.
  assert.ok(tabSeen.length > 4);
  for (const s of tabSeen) assert.equal(s.size, CELL_SIZE);
  for (const s of tabSeen) {
    assert.ok(!contains(s.cell, utf8(INFO_HASH)) && !contains(s.cell, Buffer.from(INFO_HASH, 'hex')), 'the tab saw the infohash');
    if (s.peeled) assert.ok(!contains(s.peeled, utf8(INFO_HASH)), 'the tab saw the infohash under its layer');
  }
  // The node relay after the tab has a WebSocket link from it (a page cannot open TCP).
  const second = rs.find((r) => r.identity.did === built.path[1])!;
  assert.ok(seen.some((s) => s.relay === second.host && s.link.startsWith('ws:')), 'the tab extended over WebSocket');
  for (const s of seen) assert.equal(s.size, CELL_SIZE);

  // The tab goes away: the client notices and builds a circuit without it (no third host left → a clear error).
  tab.close();
  await until('the client noticed the tab closed', () => events.find((e) => e.type === 'circuit-closed'));
  await assert.rejects(client.request(announce()), /not enough relays|tab relay/);
});

test('a tab relay rotates its onion key and republishes; circuits through it still build', async (t) => {
  const { url, tab, client } = await tabRelayWorld(t, ['127.0.0.47', '127.0.0.48'], { exit: exit([]), tab: { onionKeyRotateMs: 2000 } });
  const first = tab.descriptor()!.onionKey;
  await until('a new onion key published', () => {
    const d = tab.descriptor();
    return d && d.onionKey !== first && tab.status().published.every((p) => p.ok);
  });
  const listed = (await directoryRelays([url], { maxAgeMs: 0 })()).find((r) => r.rtc);
  assert.ok(listed && listed.onionKey !== first, 'the directory has the new key');
  // Built within a rotation period of reading the list: the key read is current or the previous one.
  assert.equal(((await client.request(announce())) as { ok: boolean }).ok, true);
  assert.equal(tab.status().circuits, 1);
});

test('Node clients never pick tab relays (they cannot dial WebRTC); browsers put tabs first', async (t) => {
  const { tracker, url } = await directory();
  const rs = await relays(['127.0.0.43', '127.0.0.44', '127.0.0.45'], url, exit([]), []);
  const tab = startTabRelay({ directories: [url], iceServers: [] });
  t.after(async () => {
    tab.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  await registered(tab);
  const all = await directoryRelays([url], { maxAgeMs: 0 })();
  assert.equal(all.length, 4);
  const node = new OnionClient({ relays: async () => all, dial: () => Promise.reject(new Error('unused')) });
  const browser = new OnionClient({ relays: async () => all, dial: () => Promise.reject(new Error('unused')), prefer: 'ws', webrtc: true });
  let tabs = 0;
  for (let i = 0; i < 50; i++) {
    assert.ok(!node.pickPath(all).some((r) => r.rtc), 'a Node client picked a tab');
    const path = browser.pickPath(all);
    const at = path.findIndex((r) => r.rtc);
    if (at >= 0) {
      tabs++;
      assert.equal(at, 0, 'a tab after a node relay (node relays cannot dial tabs)');
    }
  }
  assert.ok(tabs > 0, 'a browser never picked the tab');
  node.close();
  browser.close();
});

test('signalling refuses what it should: a forged registration, offers to nobody, boxes for someone else, junk', async (t) => {
  const { tracker, url } = await directory();
  const rs = await relays(['127.0.0.46'], url, exit([]), []);
  const tab = startTabRelay({ directories: [url], iceServers: [] });
  t.after(async () => {
    tab.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  await registered(tab);
  const signalUrl = rs[0]!.relay.descriptor().signal!;
  const tabDid = tab.status().did;

  const session = () => signalSession(signalUrl, (m, type) => assert.equal(m.type, type, JSON.stringify(m)));

  // Claiming the tab's did with another key, or replaying a proof made for another challenge.
  const a = await session();
  const impostor = generateIdentity('impostor');
  a.ws.send(JSON.stringify({ ...signRegistration(impostor, a.nonce), id: tabDid }));
  assert.match(String((await a.next('error')).error), /does not verify/);
  const b = await session();
  b.ws.send(JSON.stringify(signRegistration(impostor, a.nonce)));
  assert.match(String((await b.next('error')).error), /does not verify/);
  assert.equal(rs[0]!.relay.signal!.tabs, 1, 'the tab is still the one registered');

  // An offer for a did nobody registered; one sealed to another did reaches the tab, which refuses it.
  b.ws.send(JSON.stringify({ type: 'offer', to: impostor.did, id: 1, box: sealOffer(impostor.did, 'v=0').box }));
  assert.match(String((await b.next('error')).error), /no such tab relay/);
  b.ws.send(JSON.stringify({ type: 'offer', to: tabDid, id: 2, box: sealOffer(impostor.did, 'v=0').box }));
  const refused = await b.next('error');
  assert.equal(refused.id, 2);
  assert.match(String(refused.error), /does not open/);
  b.ws.send(JSON.stringify({ type: 'offer', to: tabDid, id: 'x', box: 1 }));
  assert.equal((await b.next('error')).error, 'bad offer');
  // A client cannot answer for the tab.
  b.ws.send(JSON.stringify({ type: 'answer', to: 1, id: 1, box: 'AAAA' }));
  // `ready` goes only to the tab that answered, for an answered offer of the sender's own
  // connection, once. A hand-driven tab (registered as the impostor's did, which it holds) answers.
  const fake = await session();
  fake.ws.send(JSON.stringify(signRegistration(impostor, fake.nonce)));
  await fake.next('registered');
  const dialer = await session();
  dialer.ws.send(JSON.stringify({ type: 'offer', to: impostor.did, id: 7, box: 'AAAA' }));
  const offer = await fake.next('offer');
  assert.equal(offer.id, 7);
  dialer.ws.send(JSON.stringify({ type: 'ready', to: impostor.did, id: 7 }));
  assert.match(String((await dialer.next('error')).error), /no answered offer/, 'ready before the answer');
  fake.ws.send(JSON.stringify({ type: 'answer', to: offer.from, id: 7, box: 'BBBB' }));
  assert.equal((await dialer.next('answer')).box, 'BBBB');
  const other = await session();
  other.ws.send(JSON.stringify({ type: 'ready', to: impostor.did, id: 7 }));
  assert.match(String((await other.next('error')).error), /no answered offer/, "another connection's offer");
  dialer.ws.send(JSON.stringify({ type: 'ready', to: tabDid, id: 7 }));
  assert.match(String((await dialer.next('error')).error), /no answered offer/, 'another tab');
  dialer.ws.send(JSON.stringify({ type: 'ready', to: impostor.did, id: 8 }));
  assert.match(String((await dialer.next('error')).error), /no answered offer/, 'an unknown id');
  dialer.ws.send(JSON.stringify({ type: 'ready', to: 7, id: '7' }));
  assert.equal((await dialer.next('error')).error, 'bad ready');
  // A tab cannot say ready for the client (the offer it answered is not its own).
  fake.ws.send(JSON.stringify({ type: 'ready', to: impostor.did, id: 7 }));
  assert.match(String((await fake.next('error')).error), /no answered offer/);
  dialer.ws.send(JSON.stringify({ type: 'ready', to: impostor.did, id: 7 }));
  assert.deepEqual(await fake.next('ready'), { type: 'ready', from: offer.from, id: 7 });
  dialer.ws.send(JSON.stringify({ type: 'ready', to: impostor.did, id: 7 }));
  assert.match(String((await dialer.next('error')).error), /no answered offer/, 'a second ready');
  assert.deepEqual(fake.unread(), [], 'the tab got nothing else');
  for (const s of [fake, dialer, other]) s.ws.close();
  await until('the hand-driven tab gone', () => rs[0]!.relay.signal!.tabs === 1);
  // Not JSON: the connection goes; a message over the size limit too.
  b.ws.send('not json');
  await until('closed on junk', () => b.closed());
  const c = await session();
  c.ws.send('x'.repeat(64 * 1024));
  await until('closed on an oversized message', () => c.closed());
  a.ws.close();
  assert.equal(rs[0]!.relay.signal!.tabs, 1);
  assert.equal(tab.status().registered, true, 'the tab stayed registered through it all');
});

test('sealed SDPs: padded to blocks, opened only by the did they were sealed to, answers only with their offer\'s key', () => {
  const tab = generateIdentity('tab');
  const other = generateIdentity('other');
  const sdp = 'v=0\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n';
  const { box, answerKey } = sealOffer(tab.did, sdp);
  const sealedLen = Buffer.from(box, 'base64url').length - 32 - 16;
  assert.equal(sealedLen % SEAL_BLOCK, 0);
  assert.equal(sealOffer(tab.did, sdp + 'x'.repeat(500)).box.length, box.length, 'sizes in one block look alike');
  const opened = openOffer(tab, box);
  assert.equal(opened.sdp, sdp);
  assert.throws(() => openOffer(other, box));
  const answer = sealAnswer(opened.answerKey, 'v=0 answer');
  assert.throws(() => openOffer(tab, answer));
  assert.ok(answerKey.every((x, i) => x === opened.answerKey[i]));
  // A box altered in transit does not open.
  const bytes = Buffer.from(box, 'base64url');
  bytes[40] ^= 1;
  assert.throws(() => openOffer(tab, bytes.toString('base64url')));
});

test('the directory refuses tab descriptors that claim an exit or a node address', async (t) => {
  const { tracker, url } = await directory();
  t.after(() => tracker.close());
  const id = generateIdentity('tab');
  const now = Date.now();
  const base = { onionKey: b64u(new Uint8Array(32).fill(9)), rtc: 'ws://127.0.0.1:1/onion/signal', exit: null, published: now, expires: now + 60_000 };
  const post = (d: unknown) => fetch(`${url}/relays`, { method: 'POST', body: JSON.stringify(d) });
  const good = await post(signDescriptor(id, base));
  assert.equal(good.status, 200, await good.text());
  const asExit = await post(signDescriptor(id, { ...base, exit: { operations: ['announce'], proxy: false } }));
  assert.equal(asExit.status, 400);
  assert.match(await asExit.text(), /never an exit/);
  const withTcp = await post(signDescriptor(id, { ...base, tcp: '127.0.0.1:9' }));
  assert.equal(withTcp.status, 400);
  assert.match(await withTcp.text(), /only an rtc address/);
  const badRtc = await post(signDescriptor(id, { ...base, rtc: 'http://x' }));
  assert.equal(badRtc.status, 400);
  assert.match(await badRtc.text(), /bad rtc/);
});
