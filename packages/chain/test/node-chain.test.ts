// A node's embedded chain: deployed and funded on first start, the same contracts and records
// after a restart; and its anvil goes when the node is killed outright.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NodeChain } from '../src/node-chain/node-chain.ts';
import { receiptTermsOf } from '../src/receipts/receipt-terms.ts';

test('the embedded chain deploys and funds once, and keeps its contracts and blocks across restarts', { timeout: 60_000 }, async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'cascade-node-chain-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const ethSecret = new Uint8Array(randomBytes(32));
  // What receipts name before the chain ever ran (issue 40: they are signed without it)…
  const before = receiptTermsOf({ stateDir });
  const first = await NodeChain.start({ stateDir, ethSecret });
  const s1 = await first.status();
  // …is what it deploys, and what it reads back from deployment.json afterwards.
  assert.deepEqual([before.chainId, before.pool.toLowerCase()], [31337n, s1.contracts.pool.toLowerCase()]);
  assert.equal(receiptTermsOf({ stateDir }).pool.toLowerCase(), s1.contracts.pool.toLowerCase());
  assert.equal(receiptTermsOf({ stateDir, chainId: 5, rpcUrl: 'http://127.0.0.1:9', contracts: { ...s1.contracts, pool: '0x00000000000000000000000000000000000000aa' } }).pool, '0x00000000000000000000000000000000000000aa');
  assert.equal(s1.embedded, true);
  assert.equal(s1.chainId, 31337);
  assert.match(s1.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(s1.balances.ether, (100n * 10n ** 18n).toString(), 'the node account has ether for gas');
  assert.equal(s1.balances.token, '0');
  assert.ok(BigInt(s1.block) >= 4n, 'three deployments and the pool funding were mined');
  await first.close();

  const second = await NodeChain.start({ stateDir, ethSecret });
  const s2 = await second.status();
  assert.deepEqual(s2.contracts, s1.contracts, 'no second deployment');
  assert.match(s1.contracts.market ?? '', /^0x[0-9a-fA-F]{40}$/, 'the market is deployed with the others');
  assert.equal(s2.account, s1.account);
  assert.ok(BigInt(s2.block) >= BigInt(s1.block), 'the chain went on from where it stopped');
  assert.equal(s2.balances.ether, s1.balances.ether, 'funded once');
  await second.close();

  // A chain deployed before the market existed (no "market" in deployment.json) gets one at its next
  // start, recorded; the other contracts stay.
  const file = join(stateDir, 'chain', 'deployment.json');
  const { market: _, ...older } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  writeFileSync(file, JSON.stringify(older));
  const third = await NodeChain.start({ stateDir, ethSecret });
  t.after(() => third.close());
  const { market, ...others } = third.contracts;
  assert.deepEqual(others, { registry: s1.contracts.registry, token: s1.contracts.token, pool: s1.contracts.pool });
  assert.ok(market && market !== s1.contracts.market, 'a market of its own');
  assert.ok(((await third.client.getCode({ address: market })) ?? '0x').length > 2, 'with code');
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { market: string }).market, market, 'recorded');
});

test('an external chain must say its id and contracts, and must be the chain it says', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'cascade-node-chain-'));
  try {
    const ethSecret = new Uint8Array(randomBytes(32));
    await assert.rejects(NodeChain.start({ stateDir, ethSecret, rpcUrl: 'http://127.0.0.1:9' }), /needs --chain-id/);
    await assert.rejects(NodeChain.start({ stateDir, ethSecret, rpcUrl: 'http://127.0.0.1:9', chainId: 5 }), /contracts' addresses/);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a node killed outright (SIGKILL) takes its anvil with it', { timeout: 60_000 }, async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'cascade-node-chain-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const script = `
    import { startAnvil } from ${JSON.stringify(new URL('../src/node-chain/anvil.ts', import.meta.url).href)};
    const a = await startAnvil();
    console.log(String(a.process.pid));
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve) => child.stdout!.once('data', (b: Buffer) => resolve(Number(String(b).trim()))));
  assert.ok(pid > 0);
  assert.doesNotThrow(() => process.kill(pid, 0), 'anvil runs');
  child.kill('SIGKILL');
  const deadline = Date.now() + 10_000;
  let alive = true;
  while (alive && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
  }
  if (alive) process.kill(pid, 'SIGKILL');
  assert.equal(alive, false, 'anvil outlived its node');
});
