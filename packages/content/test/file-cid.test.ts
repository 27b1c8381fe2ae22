// A file's SHA-256 read in slices: the same digest as one pass over its bytes, the pacer asked once
// per slice, a prefix when a length is given, a pass that stops when told, and a short file an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cidOfFile, sha256OfFile } from '../node.ts';
import { cidFromSha256 } from '../index.ts';

test('sha256OfFile: sliced, paced, prefix, abort, short file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'file-cid-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = randomBytes(3 * 1024 * 1024 + 77);
  const path = join(dir, 'f.bin');
  writeFileSync(path, bytes);
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest();
  let slices = 0;
  assert.deepEqual(Buffer.from(await sha256OfFile(path, undefined, { beforeSlice: () => void slices++ })), sha(bytes));
  assert.equal(slices, 4);
  assert.deepEqual(Buffer.from(await sha256OfFile(path, 1000)), sha(bytes.subarray(0, 1000)));
  assert.equal(await cidOfFile(path), cidFromSha256(sha(bytes)));
  assert.deepEqual(Buffer.from(await sha256OfFile(path, 0)), sha(new Uint8Array(0)));
  let n = 0;
  await assert.rejects(sha256OfFile(path, undefined, { aborted: () => ++n > 2 }), { name: 'AbortError' });
  await assert.rejects(sha256OfFile(path, bytes.length + 10), /ends at/);
});
