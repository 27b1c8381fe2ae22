// The data-channel Connection itself, between two node-datachannel peer connections in this process
// (ICE on 127.0.0.1, no STUN): what it promises callers about their buffers, and the bytes it moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { channelOpen, dataChannelConnection, iceGatheringDone } from '../src/webrtc/webrtc-connection.ts';
import type { Connection } from '../src/platform.ts';

/** Two connected peer connections with one data channel, each end wrapped as a Connection. */
async function pair(t: { after: (fn: () => unknown) => void }): Promise<[Connection, Connection]> {
  const config = { iceServers: [], bindAddress: '127.0.0.1' } as RTCConfiguration;
  const a = new RTCPeerConnection(config) as unknown as globalThis.RTCPeerConnection;
  const b = new RTCPeerConnection(config) as unknown as globalThis.RTCPeerConnection;
  t.after(() => {
    a.close();
    b.close();
  });
  const ca = a.createDataChannel('t');
  const cb = new Promise<RTCDataChannel>((resolve) => b.addEventListener('datachannel', (e) => resolve(e.channel), { once: true }));
  await a.setLocalDescription(await a.createOffer());
  await iceGatheringDone(a);
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await iceGatheringDone(b);
  await a.setRemoteDescription(b.localDescription!);
  const other = await cb;
  await Promise.all([channelOpen(ca, 20_000, a), channelOpen(other, 20_000, b)]);
  return [dataChannelConnection(ca, { remote: 'webrtc:a', pc: a }), dataChannelConnection(other, { remote: 'webrtc:b', pc: b })];
}

test('write() keeps nothing of the caller\'s buffer: drained() at once, and a buffer reused right after each write still sends what it held', async (t) => {
  const [tx, rx] = await pair(t);
  const got: Uint8Array[] = [];
  let gotBytes = 0;
  rx.onData((chunk) => {
    got.push(chunk.slice());
    gotBytes += chunk.length;
  });
  // Wire-like writes: a header and a block, over and over, from the same two buffers (as a seeder
  // sends blocks of a piece buffer its cache reuses once every connection says drained()).
  const header = new Uint8Array(13);
  const block = new Uint8Array(16 * 1024 + 7);
  const sent = createHash('sha1');
  let total = 0;
  for (let i = 0; i < 200; i++) {
    header.fill(i & 0xff);
    block.fill((i * 7 + 1) & 0xff);
    for (const part of [header, block.subarray(0, 1000 + i * 61)]) {
      sent.update(part);
      total += part.length;
      tx.write(part);
      assert.equal(tx.drained(), true, `drained after write ${i}`);
    }
    // The caller overwrites its buffers before the connection has flushed anything.
    header.fill(0xee);
    block.fill(0xee);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  const deadline = Date.now() + 20_000;
  while (gotBytes < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(gotBytes, total);
  const received = createHash('sha1');
  for (const c of got) received.update(c);
  assert.equal(received.digest('hex'), sent.digest('hex'), 'the bytes written, in order, none overwritten');
  // Messages are assembled up to the largest size the far end accepts: far fewer than the writes.
  assert.ok(got.length < 50, `${got.length} messages for 400 writes`);
});
