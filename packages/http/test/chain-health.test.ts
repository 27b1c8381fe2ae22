// A node with its embedded chain (issue 13): /api/health and `cascade health` show the chain (id,
// block, contracts, the node identity's account with ether for gas); visitors see none of it; a
// restart on the same state dir finds the same contracts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { startServer } from '../src/app/server.ts';
import { startTestServer, testServerOptions } from './server-helpers.ts';

const CLI = join(import.meta.dirname, '../../cli/bin/cascade.js');
// Not spawnSync: the node answering it runs in this very process.
const run = (args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { encoding: 'utf8' });

async function runningChain(s: { json: (p: string) => Promise<{ body: any }> }): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const chain = (await s.json('/api/health')).body.chain;
    if (chain.state === 'running' || chain.state === 'error' || Date.now() > deadline) return chain;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the embedded chain: in /api/health and `cascade health`, not for visitors, the same contracts after a restart', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(t, { chain: {} });
  const chain = await runningChain(s);
  assert.equal(chain.state, 'running', JSON.stringify(chain));
  assert.equal(chain.embedded, true);
  assert.equal(chain.chainId, 31337);
  assert.equal(chain.account, s.identity.address, "the node identity's account");
  assert.equal(chain.balances.ether, (100n * 10n ** 18n).toString());
  for (const k of ['registry', 'token', 'pool']) assert.match(chain.contracts[k], /^0x[0-9a-fA-F]{40}$/);
  assert.ok(Number(chain.block) >= 4);

  const visitor = (await s.json('/api/health', { anonymous: true } as never)).body;
  assert.equal(visitor.chain, undefined, 'visitors see no chain details');

  const cli = await run(['health', '--state-dir', join(s.root, 'state')]);
  assert.match(cli.stdout, /chain {4}embedded, id 31337, block \d+/);
  assert.match(cli.stdout, new RegExp(`account ${s.identity.address}: 100 ETH, 0 SEED`));
  const json = await run(['health', '--json', '--state-dir', join(s.root, 'state')]);
  assert.equal(JSON.parse(json.stdout.trim().split('\n').pop()!).chain.contracts.pool, chain.contracts.pool);

  await s.close();
  const again = await startServer({ ...testServerOptions(s.root), chain: {} });
  try {
    const h = async (path: string) => ({ body: await (await fetch(again.url + path, { headers: { authorization: `Bearer ${again.token}` } })).json() });
    const after = await runningChain({ json: h });
    assert.equal(after.state, 'running');
    assert.deepEqual(after.contracts, chain.contracts, 'deployed once: the chain kept its state');
    assert.ok(Number(after.block) >= Number(chain.block));
  } finally {
    await again.close();
  }
});

test('no chain: health says off; a chain that cannot start says why and the node runs on', { timeout: 60_000 }, async (t) => {
  const off = await startTestServer(t);
  assert.deepEqual((await off.json('/api/health')).body.chain, { state: 'off' });
  const bad = await startTestServer(t, { chain: { rpcUrl: 'http://127.0.0.1:9', chainId: 5, contracts: { registry: `0x${'11'.repeat(20)}`, token: `0x${'22'.repeat(20)}`, pool: `0x${'33'.repeat(20)}` } } });
  const chain = await runningChain(bad);
  assert.equal(chain.state, 'error');
  assert.match(chain.error, /127\.0\.0\.1:9|fetch failed|HTTP request failed/i);
  assert.equal((await bad.json('/api/torrents')).body.total, 0, 'the node serves on');
});
