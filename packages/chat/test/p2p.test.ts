// The peer-to-peer path and its fallback, with an in-memory stand-in for RTCPeerConnection (real WebRTC
// is exercised in chat.browser.test.ts inside a loopback-only namespace).
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, type RtcConstructor } from '../index.ts';
import { closeClients, startChatServer, startClient, texts, until } from './helpers.ts';

afterEach(() => closeClients());
after(() => closeClients());

class FakeChannel {
  readyState: 'connecting' | 'open' | 'closed' = 'connecting';
  partner: FakeChannel | undefined;
  /** drop everything sent (a channel that silently died) */
  blackhole = false;
  /** close right after the next send (a peer vanishing mid-send) */
  closeAfterSend = false;
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  send(data: string): void {
    if (this.readyState !== 'open') throw new Error('channel not open');
    if (this.closeAfterSend) {
      this.close();
      return;
    }
    if (this.blackhole) return;
    const p = this.partner;
    setTimeout(() => p?.readyState === 'open' && p.onmessage?.({ data }), 1);
  }
  open(): void {
    this.readyState = 'open';
    setTimeout(() => this.onopen?.(), 1);
  }
  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    setTimeout(() => this.onclose?.(), 1);
    this.partner?.close();
  }
}

const registry = new Map<string, FakePeerConnection>();
let counter = 0;

class FakePeerConnection {
  readonly id = String(++counter);
  channel: FakeChannel | undefined;
  remote: FakePeerConnection | undefined;
  localDescription: { type: string; sdp: string } | null = null;
  signalingState = 'stable';
  iceGatheringState = 'complete';
  connectionState = 'new';
  onconnectionstatechange: (() => void) | null = null;
  constructor(_config?: unknown) {
    registry.set(this.id, this);
  }
  createDataChannel(): FakeChannel {
    return (this.channel = new FakeChannel());
  }
  async createOffer() { return { type: 'offer', sdp: `fake:${this.id}` }; }
  async createAnswer() { return { type: 'answer', sdp: `fake:${this.id}` }; }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
    this.maybeConnect();
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remote = registry.get(d.sdp.slice(5));
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
    this.maybeConnect();
  }
  private maybeConnect(): void {
    const r = this.remote;
    if (!r || r.remote !== this || !this.localDescription || !r.localDescription || !this.channel || !r.channel) return;
    this.channel.partner = r.channel;
    r.channel.partner = this.channel;
    this.connectionState = r.connectionState = 'connected';
    this.channel.open();
    r.channel.open();
  }
  addEventListener(): void {}
  removeEventListener(): void {}
  close(): void {
    this.channel?.close();
    this.connectionState = 'closed';
  }
}

const rtc = FakePeerConnection as unknown as RtcConstructor;

test('direct chat goes p2p, falls back to the relay when the channel dies mid-send, loses nothing, duplicates nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-chat-p2p-'));
  const dbPath = join(dir, 'chat.db');
  let srv = await startChatServer({ dbPath });
  const [alice, bob] = [generateIdentity('Alice'), generateIdentity('Bob')];
  const dm = (d: string) => `dm:${d}`;
  try {
    const o = { rtc, p2pAckTimeoutMs: 300, p2pRetryMs: 60_000 };
    const a = await startClient(srv.url, alice, o);
    const b = await startClient(srv.url, bob, o);
    a.openDm(bob.did);
    b.openDm(alice.did);
    await until(() => a.pathOf(dm(bob.did)) === 'p2p' && b.pathOf(dm(alice.did)) === 'p2p', 'p2p session');

    await a.sendText(dm(bob.did), 'over the data channel');
    await until(() => b.conversations.get(dm(alice.did))?.messages.find((m) => m.text === 'over the data channel'), 'p2p delivery');
    assert.equal(b.conversations.get(dm(alice.did))!.messages[0]!.via, 'p2p');
    await until(() => a.outboxSize() === 0, 'relay copy stored');

    // the channel swallows what Alice sends: no ack, so the relay delivers it
    const ch = (a.peerConnection(bob.did) as unknown as FakePeerConnection).channel!;
    ch.blackhole = true;
    await a.sendText(dm(bob.did), 'channel went silent');
    await until(() => texts(b, dm(alice.did)).includes('channel went silent'), 'fallback delivery');
    assert.equal(b.conversations.get(dm(alice.did))!.messages.find((m) => m.text === 'channel went silent')!.via, 'relay');

    // the channel closes in the middle of a send
    ch.blackhole = false;
    ch.closeAfterSend = true;
    await a.sendText(dm(bob.did), 'peer vanished mid-send');
    await until(() => texts(b, dm(alice.did)).includes('peer vanished mid-send'), 'delivery after the channel closed');
    await until(() => a.pathOf(dm(bob.did)) === 'relay', 'path back to relay');
    await b.sendText(dm(alice.did), 'reply via relay');
    await until(() => texts(a, dm(bob.did)).includes('reply via relay'), 'reply');

    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(texts(b, dm(alice.did)), ['over the data channel', 'channel went silent', 'peer vanished mid-send', 'reply via relay']);
    assert.deepEqual(b.notices.map((n) => n.code), [], 'no message was seen twice or rejected');
    assert.deepEqual(a.notices.map((n) => n.code), []);

    // the relay holds every message, also the one that went peer-to-peer: history after a restart
    a.close();
    b.close();
    await srv.close();
    srv = await startChatServer({ dbPath });
    const b2 = await startClient(srv.url, bob);
    assert.deepEqual(texts(b2, dm(alice.did)), ['over the data channel', 'channel went silent', 'peer vanished mid-send', 'reply via relay']);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a peer whose WebRTC is unavailable is answered over the relay only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-chat-p2p-'));
  const srv = await startChatServer({ dbPath: join(dir, 'chat.db') });
  const [alice, bob] = [generateIdentity('Alice'), generateIdentity('Bob')];
  const broken = function () {
    throw new Error('WebRTC blocked');
  } as unknown as RtcConstructor;
  try {
    const a = await startClient(srv.url, alice, { rtc });
    const b = await startClient(srv.url, bob, { rtc: broken });
    a.openDm(bob.did);
    b.openDm(alice.did);
    await a.sendText(`dm:${bob.did}`, 'hello');
    await b.sendText(`dm:${alice.did}`, 'hi');
    await until(() => texts(a, `dm:${bob.did}`).length === 2 && texts(b, `dm:${alice.did}`).length === 2, 'delivery both ways');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(a.pathOf(`dm:${bob.did}`), 'relay');
    assert.equal(b.pathOf(`dm:${alice.did}`), 'relay');
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
