// The market contract's Solidity tests (forge/test/*.t.sol) under `forge test` with fuzzing: forge
// from npm (@foundry-rs/forge), offline — its solc is forge/solc (the same solc-js as the artifacts)
// and forge-std is replaced by forge/test/Base.sol. Fails if any Solidity test fails or none ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const ROOT = join(import.meta.dirname, '..');

function forgeBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const bin = join(dirname(require.resolve(`@foundry-rs/forge-${process.platform}-${arch}/package.json`)), 'bin', 'forge');
  assert.ok(existsSync(bin), `forge binary missing at ${bin} (npm install the chain package's devDependencies)`);
  return bin;
}

test('forge test: the market contract\'s Solidity tests pass, fuzzed', { timeout: 300_000 }, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'cascade-forge-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const r = spawnSync(forgeBinary(), [
    'test', '--root', ROOT, '--use', join(ROOT, 'forge', 'solc'), '--offline', '--fuzz-runs', '256',
    '--out', join(tmp, 'out'), '--cache-path', join(tmp, 'cache'),
    // The market's tests compile neither the registry nor the pool: forge would, for nothing.
    '--skip', 'contracts/RewardPool.sol', '--skip', 'contracts/ContentRegistry.sol', '--skip', 'contracts/CascadeToken.sol',
    '--json',
  ], { encoding: 'utf8', env: { ...process.env, CASCADE_NODE: process.execPath, NO_COLOR: '1' }, timeout: 280_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `forge test failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  const suites = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Record<string, { test_results: Record<string, { status: string; kind: { Fuzz?: { runs: number } } }> }>;
  const results = Object.values(suites).flatMap((s) => Object.entries(s.test_results));
  assert.ok(results.length >= 10, `only ${results.length} Solidity tests ran`);
  for (const [name, res] of results) assert.equal(res.status, 'Success', name);
  const fuzzed = results.filter(([, res]) => res.kind.Fuzz);
  assert.ok(fuzzed.length >= 2, 'the fuzzed tests ran');
  for (const [name, res] of fuzzed) assert.equal(res.kind.Fuzz!.runs, 256, `${name} ran all its fuzz runs`);
});
