// Super-seeding (BEP 16), seen from the wire by raw fast-extension peers of a real Cascade seed:
// "have none", then two of the rarest pieces shown to each peer, different ones to different
// peers; a request for a piece not shown is refused; a peer that announces a shown piece is shown
// a new one; switched off, every peer hears of every piece. And a Cascade download from such a
// seed completes with the right bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session } from '../index.ts';
import { encodeBlockRef, encodeIndex, MSG } from '../src/wire/protocol.ts';
import { rawLeecher as rawPeer, startCascadeSeed } from './raw-peer.ts';
import { SuperSeeder } from '../src/swarm/super-seed.ts';
import { Bitfield } from '../src/pieces/bitfield.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const PIECE = 16 * 1024;
const PIECES = 8;

const isHave = (m: Buffer) => m[0] === MSG.have;

test('a super-seeding seed shows each peer two of the rarest pieces, serves only those, and shows more as they are taken', async (t) => {
  const payload = randomBytes(PIECES * PIECE);
  const { seeder, metainfo, handle } = await startCascadeSeed(t, payload, PIECE, { superSeeding: true });
  assert.equal(handle.superSeeding, true);

  const a = rawPeer(t, seeder.port, metainfo.infoHash, 'a');
  await a.next((m) => a.haves().length >= 2 && isHave(m));
  assert.equal(a.messages[0]![0], MSG.haveNone, 'the seed says it has nothing, not have_all or a bitfield');
  assert.ok(!a.messages.some((m) => m[0] === MSG.haveAll || m[0] === MSG.bitfield));
  const b = rawPeer(t, seeder.port, metainfo.infoHash, 'b');
  await b.next((m) => b.haves().length >= 2 && isHave(m));
  await new Promise((r) => setTimeout(r, 200));
  const [shownA, shownB] = [a.haves(), b.haves()];
  assert.equal(shownA.length, 2, `a was shown ${shownA}`);
  assert.equal(shownB.length, 2, `b was shown ${shownB}`);
  assert.equal(new Set([...shownA, ...shownB]).size, 4, `different pieces to different peers: ${shownA} / ${shownB}`);

  // Unchoked (the seed unchokes interested peers), a's request for a piece it was not shown is
  // refused; one for a shown piece is served.
  await a.next((m) => m[0] === MSG.unchoke);
  const hidden = [...Array(PIECES).keys()].find((i) => !shownA.includes(i))!;
  let from = a.messages.length;
  a.send(encodeBlockRef(MSG.request, hidden, 0, PIECE));
  const reject = await a.next((m) => m[0] === MSG.reject || m[0] === MSG.piece, from);
  assert.equal(reject[0], MSG.reject, 'a piece not shown is refused');
  assert.equal(reject.readUInt32BE(1), hidden);
  a.send(encodeBlockRef(MSG.request, shownA[0]!, 0, PIECE));
  const block = await a.next((m) => m[0] === MSG.piece, from);
  assert.equal(block.readUInt32BE(1), shownA[0]);
  assert.deepEqual(block.subarray(9), payload.subarray(shownA[0]! * PIECE, (shownA[0]! + 1) * PIECE));

  // a announces the piece: it is shown another, one nobody has been shown yet.
  from = a.messages.length;
  a.send(encodeIndex(MSG.have, shownA[0]!));
  const more = (await a.next(isHave, from)).readUInt32BE(1);
  assert.ok(![...shownA, ...shownB].includes(more), `a new piece: ${more} (shown before: ${shownA}, ${shownB})`);

  // Switched off: every peer hears of every piece.
  from = b.messages.length;
  handle.setSuperSeeding!(false);
  assert.equal(handle.superSeeding, false);
  await b.next(() => new Set(b.haves()).size === PIECES, from);
});

test('a Cascade download from a super-seeding seed completes with the right bytes', async (t) => {
  const payload = randomBytes(24 * PIECE + 100);
  const { root, torrent, seeder } = await startCascadeSeed(t, payload, PIECE, { superSeeding: true });
  const leecher = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => leecher.close());
  const h = await leecher.add(torrent, { savePath: path.join(root, 'out'), peers: [`127.0.0.1:${seeder.port}`] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(h.stats())}`)), 30_000);
    if (h.stats().state === 'seeding') return (clearTimeout(timer), resolve());
    h.once('done', () => (clearTimeout(timer), resolve()));
  });
  assertSameBytes(await fs.readFile(path.join(root, 'out', 'data.bin')), payload);
});

test('SuperSeeder: rarest first, then least shown; a peer that has everything is shown nothing', () => {
  const availability = new Uint16Array([2, 0, 1, 0]);
  const s = new SuperSeeder(availability, () => 0.99);
  const sent: number[] = [];
  const peer = { bits: new Bitfield(4), sendHave: (i: number) => sent.push(i) };
  s.refresh(peer);
  assert.deepEqual(sent.sort(), [1, 3], 'the two pieces nobody has');
  assert.equal(s.mayServe(peer, 1), true);
  assert.equal(s.mayServe(peer, 0), false);
  const other = { bits: new Bitfield(4), sendHave: (i: number) => sent.push(i) };
  other.bits.set(1);
  s.refresh(other);
  assert.deepEqual(sent.slice(2), [3, 2], 'then the next rarest (3 already shown once, still rarer than 2)');
  const full = { bits: new Bitfield(4), sendHave: (i: number) => sent.push(i) };
  full.bits.setAll();
  s.refresh(full);
  assert.equal(sent.length, 4);
  s.forget(peer);
  assert.equal(s.mayServe(peer, 1), false);
});
