// The protocol manager's classifier: each accepted spelling goes to its handler, and junk gets an
// error that says what would have been accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidFromSha256 } from '@cascade/content';
import { ACCEPTED, UnknownIdentifier, classifyIdentifier, parseSha256 } from '../index.ts';

const V1 = 'c9e15763f722f23e98a29decdfae341b98d53056';
const V2 = 'd3a2a8e1f4c3b7e5a9f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2';
const CID = cidFromSha256(new Uint8Array(32).fill(7));

test('every accepted form is told apart', () => {
  assert.deepEqual(classifyIdentifier(`magnet:?xt=urn:btih:${V1}&dn=x`), { kind: 'magnet', text: `magnet:?xt=urn:btih:${V1}&dn=x` });
  assert.equal(classifyIdentifier(`  MAGNET:?xt=urn:btmh:1220${V2}`).kind, 'magnet');
  assert.deepEqual(classifyIdentifier(V1.toUpperCase()), { kind: 'infohash-v1', infoHash: V1 });
  assert.equal(classifyIdentifier('ZXCVBNMASDFGHJKLQWERTYUIOP234567').kind, 'infohash-v1');
  assert.deepEqual(classifyIdentifier(V2), { kind: 'infohash-v2', infoHash: V2 });
  assert.deepEqual(classifyIdentifier(CID), { kind: 'content-id', cid: CID });
  assert.deepEqual(classifyIdentifier('http://127.0.0.1:8000/a%20b.iso'), { kind: 'url', url: 'http://127.0.0.1:8000/a%20b.iso', scheme: 'http' });
  assert.equal(classifyIdentifier('HTTPS://example.org/x.torrent').kind, 'url');
  assert.deepEqual(classifyIdentifier('ftp://127.0.0.1:2121/pub/f.bin'), { kind: 'url', url: 'ftp://127.0.0.1:2121/pub/f.bin', scheme: 'ftp' });
  // An existing file is a .torrent whatever its name looks like (a file may be named like a hash).
  assert.deepEqual(classifyIdentifier(V1, true), { kind: 'torrent-file', path: V1 });
});

test('junk gets an error naming what is accepted', () => {
  const junk = [
    '', '   ', 'hello', V1.slice(1), `${V1}0`, V2.slice(2), 'g'.repeat(40), 'magnet:', 'magnet:xt=urn:btih:x',
    'gopher://host/file', 'http://', 'ftp://', 'file:///etc/passwd', 'bafybeigdyrztxxx', CID.slice(0, -3),
    // A CIDv1 whose codec is dag-pb names a directory graph, not a file's bytes.
    'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
    'x'.repeat(500),
  ];
  for (const text of junk) {
    assert.throws(() => classifyIdentifier(text), (err: unknown) => {
      assert.ok(err instanceof UnknownIdentifier, `${text}: ${String(err)}`);
      assert.ok(err.message.includes(ACCEPTED), err.message);
      assert.ok(err.message.length < 400, 'a long input is shortened in the message');
      return true;
    });
  }
});

test('--sha256 takes 64 hex digits only', () => {
  assert.equal(parseSha256('AB'.repeat(32)).length, 32);
  assert.throws(() => parseSha256('ab'.repeat(31)), /64 hex digits/);
  assert.throws(() => parseSha256('zz'.repeat(32)), /64 hex digits/);
});
