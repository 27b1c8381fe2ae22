// BEP 52 merkle trees against an independent reference: Python's hashlib running the tree
// construction as BEP 52's reference creator describes it (zero leaves to a power of two, a file
// no longer than one piece padded only to the next power of two).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../src/encoding/hex.ts';
import {
  BLOCK_SIZE,
  MerkleTree,
  blockHash,
  checkHashRange,
  concatHashes,
  foldHashes,
  hashesFor,
  padHash,
  pieceHashFromLeaves,
  pieceLayerFromLeaves,
  rootFromLeaves,
  rootFromPieceLayer,
  treeHeight,
  verifyHashes,
  type HashRange,
} from '../src/hashing/merkle.ts';
import { sha256 } from '../src/hashing/sha256.ts';
import { createNodeHasher } from '../src/node/hasher.ts';
import { sha256Digest } from '../src/browser/hasher.ts';

const REFERENCE = `
import hashlib, json, sys
B = 16384
def root(hs):
    assert len(hs) & (len(hs) - 1) == 0
    while len(hs) > 1:
        hs = [hashlib.sha256(hs[i] + hs[i + 1]).digest() for i in range(0, len(hs), 2)]
    return hs[0]
def pow2(n):
    p = 1
    while p < n: p *= 2
    return p
out = []
for path, plen in json.loads(sys.argv[1]):
    data = open(path, 'rb').read()
    leaves = [hashlib.sha256(data[i:i + B]).digest() for i in range(0, len(data), B)]
    per = plen // B
    pieces = []
    for p in range(0, len(leaves), per):
        chunk = leaves[p:p + per]
        width = pow2(len(leaves)) if len(leaves) <= per else per
        pieces.append(root(chunk + [bytes(32)] * (width - len(chunk))))
    if len(pieces) > 1:
        pad = root([bytes(32)] * per)
        r = root(pieces + [pad] * (pow2(len(pieces)) - len(pieces)))
        layer = b''.join(pieces).hex()
    else:
        r = pieces[0] if pieces else None
        layer = None
    out.append({'root': r.hex() if r else None, 'layer': layer, 'leaves': b''.join(leaves).hex()})
print(json.dumps(out))
`;

const SIZES = [0, 1, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 3 * BLOCK_SIZE, 5 * BLOCK_SIZE + 7, 64 * BLOCK_SIZE, 200_000, 1_000_003];

function reference(cases: [string, number][]): { root: string | null; layer: string | null; leaves: string }[] {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', REFERENCE, JSON.stringify(cases)], { encoding: 'utf8' }));
}

function leavesOf(data: Uint8Array): Uint8Array {
  const out: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += BLOCK_SIZE) out.push(blockHash(data.subarray(off, off + BLOCK_SIZE)));
  return concatHashes(out);
}

test('sha256 matches node:crypto across padding boundaries and split inputs', async () => {
  assert.equal(toHex(sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(toHex(sha256(new TextEncoder().encode('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 100_000]) {
    const data = new Uint8Array(randomBytes(n));
    const want = toHex(createHash('sha256').update(data).digest());
    assert.equal(toHex(sha256(data)), want, `length ${n}`);
    for (const cut of [0, 1, 63, 64, Math.floor(n / 2), n]) {
      if (cut <= n) assert.equal(toHex(sha256(data.subarray(0, cut), data.subarray(cut))), want, `length ${n} cut ${cut}`);
    }
    assert.equal(toHex(await createNodeHasher().sha256(data)), want);
    assert.equal(toHex(await sha256Digest(data)), want);
  }
});

test('pieces roots and piece layers match the hashlib reference for odd sizes and piece lengths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-merkle-'));
  try {
    const cases: [string, number][] = [];
    const datas: Uint8Array[] = [];
    for (const [i, size] of SIZES.entries()) {
      const data = new Uint8Array(randomBytes(size));
      writeFileSync(join(dir, String(i)), data);
      for (const plen of [BLOCK_SIZE, 4 * BLOCK_SIZE, 1 << 20]) {
        cases.push([join(dir, String(i)), plen]);
        datas.push(data);
      }
    }
    const want = reference(cases);
    let layers = 0;
    for (const [k, [, plen]] of cases.entries()) {
      const data = datas[k]!;
      const ref = want[k]!;
      const leaves = leavesOf(data);
      assert.equal(toHex(leaves), ref.leaves);
      if (data.length === 0) {
        assert.equal(ref.root, null);
        continue;
      }
      const label = `${data.length} bytes, piece ${plen}`;
      assert.equal(toHex(rootFromLeaves(leaves)), ref.root, label);
      assert.equal(toHex(MerkleTree.fromLeaves(data.length, leaves).root), ref.root, label);
      if (data.length > plen) {
        layers++;
        const layer = pieceLayerFromLeaves(leaves, plen);
        assert.equal(toHex(layer), ref.layer, label);
        assert.equal(toHex(rootFromPieceLayer(layer, plen)), ref.root, label);
        assert.equal(toHex(MerkleTree.fromLayer(data.length, Math.log2(plen / BLOCK_SIZE), layer).root), ref.root, label);
        // Each piece's blocks hash to its piece layer entry (the last piece padded with zero leaves).
        const per = plen / BLOCK_SIZE;
        for (let p = 0; p * plen < data.length; p++) {
          const got = pieceHashFromLeaves(leaves.subarray(p * per * 32, (p + 1) * per * 32), data.length, plen);
          assert.equal(toHex(got), ref.layer!.slice(p * 64, p * 64 + 64), `${label} piece ${p}`);
        }
      } else {
        assert.equal(ref.layer, null);
        assert.equal(toHex(pieceHashFromLeaves(leaves, data.length, plen)), ref.root, label);
      }
    }
    assert.ok(layers >= 10, 'the cases include multi-piece files');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pad hashes are roots of zero subtrees', () => {
  assert.deepEqual(padHash(0), new Uint8Array(32));
  const z = new Uint8Array(32);
  const l1 = createHash('sha256').update(z).update(z).digest();
  assert.equal(toHex(padHash(1)), l1.toString('hex'));
  assert.equal(toHex(padHash(2)), createHash('sha256').update(l1).update(l1).digest('hex'));
});

test('hashes messages: served proofs verify against the root, tampering fails', () => {
  const length = 37 * BLOCK_SIZE + 100; // 38 blocks, 64 leaves, height 6
  const data = new Uint8Array(randomBytes(length));
  const tree = MerkleTree.fromLeaves(length, leavesOf(data));
  assert.equal(treeHeight(length), 6);
  let checked = 0;
  for (const baseLayer of [0, 1, 2]) {
    const width = 64 >> baseLayer;
    for (let len = 2; len <= width; len *= 2) {
      for (let index = 0; index < width; index += len) {
        for (let proofLayers = 0; proofLayers < 6 - baseLayer; proofLayers++) {
          const r: HashRange = { baseLayer, index, length: len, proofLayers };
          assert.equal(checkHashRange(length, r), undefined);
          const hashes = hashesFor(tree, r)!;
          assert.ok(hashes, JSON.stringify(r));
          const top = foldHashes(r, hashes)!;
          assert.deepEqual(top.hash, tree.node(top.level, top.index), JSON.stringify(r));
          if (proofLayers === 5 - baseLayer) {
            assert.ok(verifyHashes(tree.root, length, r, hashes), JSON.stringify(r));
            const bad = hashes.slice();
            bad[bad.length - 1]! ^= 1; // an uncle
            assert.equal(verifyHashes(tree.root, length, r, bad), false);
            const bad2 = hashes.slice();
            bad2[0]! ^= 1; // a base hash
            assert.equal(verifyHashes(tree.root, length, r, bad2), false);
            assert.equal(verifyHashes(tree.root, length, r, hashes.subarray(32)), false, 'short payload');
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 50);
  // Hand-checked shape: leaves 4..7 with a full proof carry the 4 leaves, then the uncles at
  // levels 2, 3, 4 and 5 (the level-1 layer is implied by the 4 leaves).
  const r = { baseLayer: 0, index: 4, length: 4, proofLayers: 5 };
  const h = hashesFor(tree, r)!;
  assert.equal(h.length, (4 + 4) * 32);
  assert.deepEqual(h.subarray(4 * 32, 5 * 32), tree.node(2, 0));
  assert.deepEqual(h.subarray(5 * 32, 6 * 32), tree.node(3, 1));
  assert.deepEqual(h.subarray(7 * 32), tree.node(5, 1));
  // Past the file's 38 blocks the leaves are zero hashes.
  assert.deepEqual(hashesFor(tree, { baseLayer: 0, index: 38, length: 2, proofLayers: 0 })!.subarray(0, 32), new Uint8Array(32));
});

test('hash requests a peer may not send are named', () => {
  const length = 8 * BLOCK_SIZE; // height 3
  assert.match(checkHashRange(length, { baseLayer: 3, index: 0, length: 2, proofLayers: 0 })!, /base layer/);
  assert.match(checkHashRange(length, { baseLayer: 0, index: 0, length: 3, proofLayers: 0 })!, /power of two/);
  assert.match(checkHashRange(length, { baseLayer: 0, index: 2, length: 4, proofLayers: 0 })!, /multiple/);
  assert.match(checkHashRange(length, { baseLayer: 0, index: 8, length: 2, proofLayers: 0 })!, /past the layer/);
  assert.match(checkHashRange(length, { baseLayer: 0, index: 0, length: 2, proofLayers: 3 })!, /past the root/);
  assert.match(checkHashRange(length, { baseLayer: -1, index: 0, length: 2, proofLayers: 0 })!, /bad numbers/);
  const tree = MerkleTree.fromLayer(length, 1, fromHex('00'.repeat(32 * 4)));
  assert.equal(hashesFor(tree, { baseLayer: 0, index: 0, length: 2, proofLayers: 0 }), undefined, 'no leaves known');
  assert.ok(hashesFor(tree, { baseLayer: 1, index: 0, length: 2, proofLayers: 1 }));
});
