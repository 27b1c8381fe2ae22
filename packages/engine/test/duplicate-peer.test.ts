// Two connections to one peer (both ends dialled each other): both ends must close the same one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duplicateToDrop } from '../src/swarm/admission.ts';
import type { Peer } from '../src/swarm/peer.ts';

const id = (b: number) => new Uint8Array(20).fill(b);
const peer = (remote: number, outgoing: boolean, transport = 'tcp') => ({ remoteId: id(remote), outgoing, closed: false, conn: { transport } }) as unknown as Peer;

test('with one connection dialled each way, both ends keep the one the lower peer id dialled', () => {
  const low = 1, high = 9;
  // Seen from the low end: its own dial (outgoing) survives, whichever arrived first.
  const lowOut = peer(high, true), lowIn = peer(high, false);
  assert.equal(duplicateToDrop([lowOut], lowIn, id(low)), lowIn);
  assert.equal(duplicateToDrop([lowIn], lowOut, id(low)), lowIn);
  // Seen from the high end: the same connection is its incoming one, and it survives there too.
  const highOut = peer(low, true), highIn = peer(low, false);
  assert.equal(duplicateToDrop([highIn], highOut, id(high)), highOut);
  assert.equal(duplicateToDrop([highOut], highIn, id(high)), highOut);
  // As the torrent calls it, with a Map's values(): one pass (a second loop found it empty).
  assert.equal(duplicateToDrop(new Map([['a', highIn], ['b', highOut]]).values(), highOut, id(high)), highOut);
});

test('two connections dialled the same way: the newcomer goes; other peers and unknown ids are left alone', () => {
  const old = peer(5, true);
  const newcomer = peer(5, true);
  assert.equal(duplicateToDrop([old], newcomer, id(1)), newcomer);
  assert.equal(duplicateToDrop([old], peer(6, false), id(1)), undefined);
  assert.equal(duplicateToDrop([old], { remoteId: undefined, outgoing: false, closed: false, conn: { transport: 'tcp' } } as unknown as Peer, id(1)), undefined);
  // WebRTC channels are left to the offer rule.
  assert.equal(duplicateToDrop([peer(5, false, 'webrtc')], peer(5, false, 'webrtc'), id(1)), undefined);
  assert.equal(duplicateToDrop([{ ...old, closed: true } as Peer], peer(5, false), id(1)), undefined);
});

test('the same peer over TCP and WebRTC: TCP stays, whichever came first (issue 23: TCP first where it works)', () => {
  const tcp = peer(5, true);
  const rtc = peer(5, false, 'webrtc');
  assert.equal(duplicateToDrop([tcp], rtc, id(1)), rtc, 'a WebRTC channel to a peer we have over TCP goes');
  assert.equal(duplicateToDrop([rtc], tcp, id(1)), rtc, 'a TCP connection to a peer we have over WebRTC replaces it');
  assert.equal(duplicateToDrop([rtc], peer(6, true), id(1)), undefined, 'another peer is left alone');
});
