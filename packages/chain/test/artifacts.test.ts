import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileContracts, readArtifacts } from '../src/contracts/compile.ts';

test('the checked-in artifacts are what the sources compile to (recompiled with solc-js)', () => {
  const built = compileContracts();
  const stored = readArtifacts();
  assert.deepEqual(Object.keys(built).sort(), ['CascadeMarket', 'CascadeToken', 'ContentRegistry', 'RewardPool']);
  for (const name of Object.keys(built)) {
    assert.ok(stored[name], `artifacts/${name}.json is missing: run npm run compile -w @cascade/chain`);
    assert.equal(stored[name]!.bytecode, built[name]!.bytecode, `${name}: bytecode drifted from contracts/ — run npm run compile -w @cascade/chain`);
    assert.deepEqual(stored[name]!.abi, built[name]!.abi, `${name}: ABI drifted`);
  }
});
