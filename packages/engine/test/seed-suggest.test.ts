// A seed's suggestions (BEP 6 SUGGEST_PIECE, swarm/seed-suggest.ts): seen from the wire by raw
// fast-extension peers of a real Cascade seed (suggestions before the unchoke, different pieces to
// different peers, a new one when a suggested piece is announced), in the suggester's own rules,
// and in the picker, which takes a suggested piece first while only the seed has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeBlockRef, encodeIndex, MSG } from '../src/wire/protocol.ts';
import { rawLeecher, startCascadeSeed } from './raw-peer.ts';
import { SeedSuggester, type SuggestPeer } from '../src/swarm/seed-suggest.ts';
import { Picker, type PeerView } from '../src/swarm/picker.ts';
import { Bitfield } from '../src/pieces/bitfield.ts';

const PIECE = 16 * 1024;
const PIECES = 12;
const suggestions = (messages: Buffer[]) => messages.filter((m) => m[0] === MSG.suggest).map((m) => m.readUInt32BE(1));

test('a seed suggests each unchoked peer pieces no one has, different ones to different peers, before the unchoke', async (t) => {
  const payload = randomBytes(PIECES * PIECE);
  const { seeder, metainfo } = await startCascadeSeed(t, payload, PIECE);

  const a = rawLeecher(t, seeder.port, metainfo.infoHash, 'a');
  const unchokeA = await a.next((m) => m[0] === MSG.unchoke);
  const b = rawLeecher(t, seeder.port, metainfo.infoHash, 'b');
  await b.next((m) => m[0] === MSG.unchoke);
  const [toA, toB] = [suggestions(a.messages), suggestions(b.messages)];
  assert.equal(toA.length, 3, `a was suggested ${toA}`);
  assert.equal(toB.length, 3, `b was suggested ${toB}`);
  assert.equal(new Set([...toA, ...toB]).size, 6, `different pieces to different peers: ${toA} / ${toB}`);
  assert.ok(a.messages.indexOf(unchokeA) > a.messages.findIndex((m) => m[0] === MSG.suggest), 'the suggestions come before the unchoke');
  assert.ok(a.messages.some((m) => m[0] === MSG.haveAll), 'the seed still shows everything (not super-seeding)');

  // a asks for one of its suggestions: it is served, and suggested another, one not given to b.
  let from = a.messages.length;
  a.send(encodeBlockRef(MSG.request, toA[0]!, 0, PIECE));
  const block = await a.next((m) => m[0] === MSG.piece, from);
  assert.deepEqual(block.subarray(9), payload.subarray(toA[0]! * PIECE, (toA[0]! + 1) * PIECE));
  const next = (await a.next((m) => m[0] === MSG.suggest, from)).readUInt32BE(1);
  assert.ok(![...toA, ...toB].includes(next), `a new piece: ${next}`);
  a.send(encodeIndex(MSG.have, toA[0]!));

  // A piece a fetches without being told (its own pick) is not suggested to a newcomer.
  const own = [...Array(PIECES).keys()].find((i) => ![...toA, ...toB, next].includes(i))!;
  a.send(encodeBlockRef(MSG.request, own, 0, PIECE));
  await a.next((m) => m[0] === MSG.piece && m.readUInt32BE(1) === own, from);
  const c = rawLeecher(t, seeder.port, metainfo.infoHash, 'c');
  await c.next((m) => m[0] === MSG.unchoke);
  const toC = suggestions(c.messages);
  assert.ok(toC.length > 0 && !toC.includes(own) && !toC.some((i) => [...toA, ...toB, next].includes(i)), `c: ${toC}`);
});

function fakePeer(pieces: number, opts: { fast?: boolean } = {}): SuggestPeer & { sent: number[]; closed: boolean; amChoking: boolean } {
  const sent: number[] = [];
  return { bits: new Bitfield(pieces), fast: opts.fast ?? true, amChoking: false, closed: false, sent, sendSuggest: (i) => sent.push(i) };
}

test('SeedSuggester: only pieces no peer has, one peer each; announced pieces replaced; a gone peer\'s pieces free again', () => {
  const availability = new Uint16Array([1, 0, 0, 0, 0, 2, 0, 0]);
  const s = new SeedSuggester(availability, () => 0);
  const a = fakePeer(8);
  const b = fakePeer(8);
  s.topUp(a);
  s.topUp(b);
  assert.deepEqual(a.sent, [1, 2, 3]);
  assert.deepEqual(b.sent, [4, 6, 7], 'nothing another peer holds (0, 5) and nothing given to a');
  // b asks for a's piece 2 (its own rarest-first): served elsewhere, but the claim stays a's.
  s.requested(b, 2);
  s.topUp(b);
  assert.deepEqual(b.sent, [4, 6, 7]);
  // a fetches 1 and announces it: 1 is out for good, a gets no new piece since none is left.
  s.requested(a, 1);
  availability[1] = 1;
  s.peerHas(a, 1);
  assert.deepEqual(s.openFor(a), [2, 3]);
  // A peer without the fast extension, or choked, is suggested nothing.
  const slow = fakePeer(8, { fast: false });
  s.topUp(slow);
  assert.deepEqual(slow.sent, []);
  // b leaves: its pieces go to whoever asks next.
  b.closed = true;
  s.release(b, true);
  const c = fakePeer(8);
  s.topUp(c);
  assert.deepEqual(c.sent, [4, 6, 7]);
});

test('the picker takes a suggested piece first while only the suggesting seed has it', () => {
  const have = new Bitfield(16);
  for (let i = 0; i < 4; i++) have.set(i); // past the random first pieces
  const picker = new Picker({ pieceCount: 16, pieceLength: PIECE, totalLength: 16 * PIECE, have });
  picker.peerHasAll(1);
  const seed: PeerView = { key: 'seed', has: () => true, isRequested: () => false, suggested: [9] };
  assert.equal(picker.pick(seed, 1)[0]!.index, 9);
  // Another peer announced piece 11: a suggestion of it is passed over for rarest-first.
  picker.peerHave(11);
  const again: PeerView = { ...seed, key: 'seed2', suggested: [11] };
  // The 10 pieces only the seed has (4-15 but 9, under way, and 11) come first, then 11.
  for (let k = 0; k < 10; k++) {
    const index = picker.pick(again, 1)[0]!.index;
    assert.notEqual(index, 11, 'a piece two peers have is not rarer than the seed-only ones');
  }
  assert.equal(picker.pick(again, 1)[0]!.index, 11);
});
