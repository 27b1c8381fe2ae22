// When serve's chain starts (issue 64): the embedded dev chain at its first need, not at start-up. A
// node that serves, takes a torrent and answers visitors has spawned no anvil and loaded no viem; a
// member's /api/health starts it (`starting`, then `running`, and the log says so). A node whose
// embedded chain has market listings starts it at once (its watchers follow them), and so does one
// on an external chain (--chain-rpc).
import { registerHooks } from 'node:module';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { NodeLog } from '@cascade/node';

// Every module this process loads from here on (server-helpers and the server are imported below).
const loaded: string[] = [];
registerHooks({
  load(url, context, next) {
    loaded.push(url);
    return next(url, context);
  },
});
const { formWith, patternBytes, startTestServer, testServerOptions } = await import('./server-helpers.ts');
const { startServer } = await import('../src/app/server.ts');
const { until } = await import('./assistant-helpers.ts');

const viemLoaded = () => loaded.some((u) => u.includes('/node_modules/viem/'));

/** This process's child processes named anvil (the embedded chain runs as one: setpriv execs it). */
function anvilChildren(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === process.pid && comm === 'anvil') pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function lines(): { log: NodeLog; seen: string[] } {
  const seen: string[] = [];
  return { seen, log: { event() {}, say: (l) => void seen.push(l), note: (l) => void seen.push(l) } };
}

const started = (seen: string[], what: RegExp) => seen.find((l) => what.test(l));

test('the embedded chain starts at its first need: not for serving, a torrent or a visitor; a member’s /api/health starts it; market listings start it at once', { timeout: 120_000 }, async (t) => {
  const { log, seen } = lines();
  const s = await startTestServer(t, { chain: {}, log });
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['notes.txt', patternBytes(200_000, 5)]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  assert.equal((await s.json('/api/torrents')).body.total, 1);
  assert.equal((await s.json('/api/health', { anonymous: true } as never)).body.chain, undefined, 'visitors see no chain');
  // A moment for a chain started in the background to show itself.
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(anvilChildren(), [], 'no anvil while nothing needs the chain');
  assert.equal(viemLoaded(), false, 'viem not loaded while nothing needs the chain');
  assert.equal(started(seen, /^chain: /), undefined, seen.join('\n'));

  // The first status read starts it, and says `starting` until it runs.
  assert.equal((await s.json('/api/health')).body.chain.state, 'starting');
  const chain = await until('the chain running', async () => {
    const c = (await s.json('/api/health')).body.chain;
    return c.state === 'starting' ? undefined : c;
  }, 60_000);
  assert.equal(chain.state, 'running', JSON.stringify(chain));
  assert.equal(chain.embedded, true);
  assert.equal(anvilChildren().length, 1, 'anvil spawned once needed');
  assert.ok(viemLoaded());
  assert.match(started(seen, /^chain: embedded dev chain/) ?? '', /^chain: embedded dev chain, id 31337, /);
  await s.close();
  assert.deepEqual(anvilChildren(), [], 'anvil stopped with the node');

  // A listing on that chain (by any account): the next start of the node starts the chain at once.
  const { NodeChain, cascadeMarket } = await import('@cascade/chain');
  const { createWalletClient, http } = await import('viem');
  const own = await NodeChain.start({ stateDir: join(s.root, 'state'), ethSecret: new Uint8Array(randomBytes(32)) });
  try {
    const wallet = createWalletClient({ account: own.account, chain: own.chain, transport: http(own.rpcUrl) });
    const hash = await wallet.writeContract({
      address: own.contracts.market!, abi: cascadeMarket.abi, functionName: 'list',
      args: [`0x${'11'.repeat(20)}`, `0x${'22'.repeat(32)}`, '0x0000000000000000000000000000000000000000', 1n, 0, 3600, '{}'],
    });
    assert.equal((await own.client.waitForTransactionReceipt({ hash })).status, 'success');
  } finally {
    await own.close(); // anvil writes its state on the way out
  }
  const again = lines();
  const listed = await startServer({ ...testServerOptions(s.root), chain: {}, log: again.log });
  try {
    await until('the chain started with no request', () => started(again.seen, /^chain: /), 60_000);
    assert.match(started(again.seen, /^chain: /)!, /^chain: embedded dev chain, id 31337, /);
    assert.equal(anvilChildren().length, 1);
  } finally {
    await listed.close();
  }
});

test('an external chain (--chain-rpc) starts at once', { timeout: 60_000 }, async (t) => {
  const { startAnvil, deployWithKey } = await import('@cascade/chain');
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  // anvil's second dev account (its well-known test mnemonic): funded on any fresh anvil.
  const d = await deployWithKey(anvil.rpcUrl, '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');
  const contracts = { registry: d.registry, token: d.token, pool: d.rewards, market: d.market };
  const { log, seen } = lines();
  await startTestServer(t, { chain: { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, contracts }, log });
  const line = await until('the chain started with no request', () => started(seen, /^chain: /), 30_000);
  assert.equal(line, `chain: ${anvil.rpcUrl}, id ${anvil.chainId}, registry ${contracts.registry}, account ${line.split('account ')[1]}`);
});
