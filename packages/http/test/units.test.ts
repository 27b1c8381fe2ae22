import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange } from '../src/app/range.ts';
import { sanitizePath } from '../src/app/upload.ts';
import { originAllowed } from '../src/auth/origin.ts';

test('parseRange: single ranges, open and suffix ranges, clamping, unsatisfiable, ignored oddities', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-1000', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-1000', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('BYTES = 5 - 6', 100), { kind: 'partial', start: 5, end: 6 });
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=500-600', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  // Not understood or not single: the RFC lets us send the whole file.
  assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'full' });
  assert.deepEqual(parseRange('items=0-1', 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=9-2', 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=-', 100), { kind: 'full' });
});

test('sanitizePath keeps folders, strips junk and refuses escapes', () => {
  assert.deepEqual(sanitizePath('a.txt'), ['a.txt']);
  assert.deepEqual(sanitizePath('album/sub/b.txt'), ['album', 'sub', 'b.txt']);
  assert.deepEqual(sanitizePath('C\\dir\\c.txt'), ['C', 'dir', 'c.txt']);
  assert.deepEqual(sanitizePath('/abs//./x\u0000y.txt'), ['abs', 'xy.txt']);
  for (const bad of ['../x', 'a/../../x', 'c:/x', '', '///', 'a'.repeat(300)]) {
    assert.throws(() => sanitizePath(bad), (e: Error & { statusCode?: number }) => e.statusCode === 400, bad);
  }
});

test('originAllowed: no Origin or the same host passes; other sites and "null" do not', () => {
  const req = (origin: string | undefined) => ({ headers: { host: '127.0.0.1:8080', ...(origin ? { origin } : {}) } });
  assert.equal(originAllowed(req(undefined)), true);
  assert.equal(originAllowed(req('http://127.0.0.1:8080')), true);
  assert.equal(originAllowed(req('http://evil.example')), false);
  assert.equal(originAllowed(req('http://127.0.0.1:9999')), false);
  assert.equal(originAllowed(req('null')), false);
  assert.equal(originAllowed(req('http://localhost:5173'), ['http://localhost:5173']), true);
});
