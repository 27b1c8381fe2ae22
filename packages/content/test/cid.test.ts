import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cidFromSha256, isContentId, sha256FromCid } from '../index.ts';

test('the content id of "hello\\n" is the one IPFS gives that raw block', () => {
  const digest = createHash('sha256').update('hello\n').digest();
  // `ipfs add --cid-version 1 --raw-leaves` of "hello\n" (one raw block).
  assert.equal(cidFromSha256(digest), 'bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am');
  assert.deepEqual(Buffer.from(sha256FromCid(cidFromSha256(digest))), digest);
});

test('other CIDs and junk are not content ids, and say why', () => {
  assert.equal(isContentId('not a cid'), false);
  // dag-pb CIDv0 (a UnixFS directory or file node), not file bytes
  assert.throws(() => sha256FromCid('QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'), /CIDv1/);
  // dag-json (what the chain's metadata blocks are), not raw
  assert.throws(() => sha256FromCid('baguqeeraryhw7e73l2ohtkplsorvxqzs7xfidjvglm5cmtvzrdqx6ch7oo5q'), /codec 0x/);
  assert.throws(() => cidFromSha256(new Uint8Array(20)), /32 bytes/);
});
