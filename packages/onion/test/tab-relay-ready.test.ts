// The order of a tab relay's WebRTC handshake (docs/onion.md, "Signalling"): the tab applies the
// client's offer without its candidates and adds them only when the client says `ready` (it has
// applied the answer), so no check or DTLS hello of the tab's can reach a client still applying the
// answer; without `ready` (older clients and signalling nodes) it adds them after a fallback delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openAnswer, sealOffer } from '../index.ts';
import { gathered, splitCandidates } from '../src/browser/rtc-link.ts';
import { announce, exit, signalSession, tabRelayWorld, until, usePolyfillRTC } from './rtc-helpers.ts';

/** What every peer connection in this file did, in one order. */
const steps: { n: number; pc: number; what: 'remote-offer' | 'answer-applied' | 'candidate-added'; sdp?: string; candidate?: string }[] = [];
let seq = 0;
let made = 0;
usePolyfillRTC((Base) =>
  class extends Base {
    readonly k = ++made;
    override async setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
      await super.setRemoteDescription(d);
      // The client's own offer, with the candidates it gathered, goes with its answer-applied step.
      steps.push({ n: ++seq, pc: this.k, what: d.type === 'offer' ? 'remote-offer' : 'answer-applied', sdp: d.type === 'offer' ? d.sdp! : this.localDescription!.sdp });
    }
    override async addIceCandidate(c?: RTCIceCandidateInit): Promise<void> {
      steps.push({ n: ++seq, pc: this.k, what: 'candidate-added', candidate: c?.candidate ?? '' });
      return super.addIceCandidate(c);
    }
  },
);

const candidateLines = (sdp: string) => sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));

test("a tab relay adds the client's candidates only after the client applied the answer and said ready", async (t) => {
  const events: { name: string; fields: Record<string, unknown> }[] = [];
  // No fallback within the test: only `ready` can make the tab add candidates.
  const onEvent = (name: string, fields: Record<string, unknown>) => events.push({ name, fields });
  const { tab, client } = await tabRelayWorld(t, ['127.0.0.55', '127.0.0.56'], { exit: exit([]), tab: { readyFallbackMs: 600_000, onEvent } });
  assert.equal(((await client.request(announce())) as { ok: boolean }).ok, true);
  const remoteOffers = steps.filter((s) => s.what === 'remote-offer');
  for (const s of remoteOffers) assert.deepEqual(candidateLines(s.sdp!), [], 'the tab applied an offer with candidates');
  // One ready, and so one batch of candidates, per answer the client applied (one, unless the
  // dial's retry for other WebRTC errors was needed: then the last is the link's).
  const applied = steps.filter((s) => s.what === 'answer-applied');
  const batches = await until('the tab added candidates', () => {
    const b = events.filter((e) => e.name === 'tab-relay-candidates');
    return b.length >= applied.length && b;
  });
  assert.ok(batches.every((b) => b.fields.after === 'ready' && b.fields.failed === 0), JSON.stringify(batches));

  const offered = candidateLines(applied.at(-1)!.sdp!);
  assert.ok(offered.length > 0, 'the client offered candidates');
  const tabAdded = steps.filter((s) => s.what === 'candidate-added' && s.pc === remoteOffers.at(-1)!.pc);
  assert.deepEqual(tabAdded.map((s) => s.candidate), offered, "the tab added the client's candidates");
  for (const s of tabAdded) assert.ok(s.n > applied.at(-1)!.n, 'a candidate added before the client applied the answer');
  assert.equal(batches.at(-1)!.fields.candidates, offered.length);
});

test('without ready (a client or signalling node from before it) the tab adds the candidates after the fallback delay; the link opens', async (t) => {
  const events: { name: string; fields: Record<string, unknown> }[] = [];
  const onEvent = (name: string, fields: Record<string, unknown>) => events.push({ name, fields });
  const { tab } = await tabRelayWorld(t, ['127.0.0.57'], { tab: { readyFallbackMs: 300, onEvent } });
  const pc = new RTCPeerConnection({ iceServers: [] });
  t.after(() => pc.close());
  // The dial as a client from before `ready` made it: offer, answer, and the socket stays silent.
  const dc = pc.createDataChannel('cascade-onion', { ordered: true });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const { box, answerKey } = sealOffer(tab.status().did, pc.localDescription!.sdp);
  const s = await signalSession(tab.status().signal!, (m, type) => assert.equal(m.type, type, JSON.stringify(m)));
  t.after(() => s.ws.close());
  s.ws.send(JSON.stringify({ type: 'offer', to: tab.status().did, id: 1, box }));
  await pc.setRemoteDescription({ type: 'answer', sdp: openAnswer(answerKey, String((await s.next('answer')).box)) });
  await until('the data channel opened', () => dc.readyState === 'open');
  const added = await until('the tab added candidates', () => events.find((e) => e.name === 'tab-relay-candidates'));
  assert.equal(added.fields.after, 'fallback');
  assert.equal(added.fields.failed, 0);
  assert.equal(added.fields.candidates, candidateLines(pc.localDescription!.sdp).length);
  assert.equal(tab.status().links, 1);
});

test('splitCandidates keeps everything but the candidates, which it returns with their section', () => {
  const sdp = [
    'v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=ice-ufrag:u', 'a=fingerprint:sha-256 AA:BB',
    'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', 'a=candidate:2 1 udp 1686052607 203.0.113.5 50001 typ srflx raddr 127.0.0.1 rport 50000',
    'a=end-of-candidates',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'a=mid:1', 'a=candidate:3 1 udp 41885439 198.51.100.7 3478 typ relay raddr 0.0.0.0 rport 0', '',
  ].join('\r\n');
  const { sdp: bare, candidates } = splitCandidates(sdp);
  assert.equal(bare, sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n'));
  assert.ok(bare.includes('a=fingerprint:sha-256 AA:BB') && bare.endsWith('a=mid:1\r\n'));
  assert.deepEqual(candidates, [
    { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMLineIndex: 0, sdpMid: '0' },
    { candidate: 'candidate:2 1 udp 1686052607 203.0.113.5 50001 typ srflx raddr 127.0.0.1 rport 50000', sdpMLineIndex: 0, sdpMid: '0' },
    { candidate: 'candidate:3 1 udp 41885439 198.51.100.7 3478 typ relay raddr 0.0.0.0 rport 0', sdpMLineIndex: 1, sdpMid: '1' },
  ]);
});
