// The embedded chain keeps its state across restarts (anvil --state in the state dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAnvil } from '../src/node-chain/anvil.ts';
import { deployContracts } from '../src/contracts/deploy.ts';
import { contentRegistry } from '../src/contracts/artifacts.ts';
import { DEPLOYER, clientsOf } from './helpers.ts';

test('a chain with a state file comes back after a restart with its contracts and records', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-anvil-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const statePath = join(dir, 'chain.json');
  const first = await startAnvil({ statePath });
  const c1 = clientsOf(first);
  const wallet1 = c1.wallet(DEPLOYER);
  const d = await deployContracts(wallet1, c1.client);
  const ih = '0x5555555555555555555555555555555555555555';
  await c1.client.waitForTransactionReceipt({ hash: await wallet1.writeContract({ address: d.registry, abi: contentRegistry.abi, functionName: 'register', args: [ih, `0x${'00'.repeat(32)}`, 'bafy-kept', ''] }) });
  await first.stop();
  assert.ok(existsSync(statePath), 'anvil wrote its state on exit');

  const second = await startAnvil({ statePath });
  t.after(() => second.stop());
  const rec = (await clientsOf(second).client.readContract({ address: d.registry, abi: contentRegistry.abi, functionName: 'recordOf', args: [ih] })) as { owner: string; metadataCid: string };
  assert.equal(rec.owner, DEPLOYER.address);
  assert.equal(rec.metadataCid, 'bafy-kept');
});

test('a state file cut short (anvil writes it in place: a power loss, a full disk) is kept aside and the chain goes on from its last good copy', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-anvil-cut-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const statePath = join(dir, 'state.json');
  const register = async (a: Awaited<ReturnType<typeof startAnvil>>, registry: `0x${string}`, ih: `0x${string}`, cid: string) => {
    const c = clientsOf(a);
    const w = c.wallet(DEPLOYER);
    await c.client.waitForTransactionReceipt({ hash: await w.writeContract({ address: registry, abi: contentRegistry.abi, functionName: 'register', args: [ih, `0x${'00'.repeat(32)}`, cid, ''] }) });
  };
  const cidOf = async (a: Awaited<ReturnType<typeof startAnvil>>, registry: `0x${string}`, ih: `0x${string}`) =>
    ((await clientsOf(a).client.readContract({ address: registry, abi: contentRegistry.abi, functionName: 'recordOf', args: [ih] })) as { metadataCid: string }).metadataCid;
  const first = await startAnvil({ statePath });
  const c1 = clientsOf(first);
  const d = await deployContracts(c1.wallet(DEPLOYER), c1.client);
  await register(first, d.registry, '0x6666666666666666666666666666666666666666', 'bafy-before');
  await first.stop();
  // The next start copies the whole file aside (its good copy), then the file is cut short.
  const second = await startAnvil({ statePath });
  assert.deepEqual(second.stateCheck, {});
  await second.stop();
  assert.ok(existsSync(`${statePath}.good`), 'a good copy kept at the start');
  const whole = readFileSync(statePath);
  writeFileSync(statePath, whole.subarray(0, Math.floor(whole.length / 2)));

  const third = await startAnvil({ statePath });
  t.after(() => third.stop());
  assert.ok(third.stateCheck.broken && existsSync(third.stateCheck.broken), `the cut file kept aside: ${JSON.stringify(third.stateCheck)}`);
  assert.equal(readFileSync(third.stateCheck.broken!).length, Math.floor(whole.length / 2));
  assert.ok(third.stateCheck.restoredFrom! > 0 && !third.stateCheck.lost);
  assert.equal(await cidOf(third, d.registry, '0x6666666666666666666666666666666666666666'), 'bafy-before', 'the record kept in the good copy');
  await third.stop();

  // Nothing good left either: the chain starts, empty, and says so.
  writeFileSync(statePath, '{"block":');
  writeFileSync(`${statePath}.good`, '');
  const fourth = await startAnvil({ statePath });
  t.after(() => fourth.stop());
  assert.equal(fourth.stateCheck.lost, true);
  assert.equal(await clientsOf(fourth).client.getBlockNumber(), 0n, 'a fresh chain');
});

test('while the chain runs, its good copy follows the state file anvil writes', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-anvil-copy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const statePath = join(dir, 'state.json');
  const a = await startAnvil({ statePath, stateInterval: 1, goodCopyEveryMs: 300 });
  t.after(() => a.stop());
  const c = clientsOf(a);
  await deployContracts(c.wallet(DEPLOYER), c.client);
  const deadline = Date.now() + 15_000;
  const goodBlock = () => {
    try {
      return BigInt((JSON.parse(readFileSync(`${statePath}.good`, 'utf8')) as { block: { number: string } }).block.number);
    } catch {
      return -1n;
    }
  };
  const block = await c.client.getBlockNumber({ cacheTime: 0 }); // viem caches it 4 s by default
  while (goodBlock() < block && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.equal(goodBlock(), block, 'the good copy holds the chain as anvil last wrote it');
});

test('a chain started while the last one on its state is still on its way out waits for it, and reads all it wrote', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-anvil-overlap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const statePath = join(dir, 'state.json');
  const first = await startAnvil({ statePath }); // writes its state every 30 s, and on SIGTERM
  const c1 = clientsOf(first);
  const w1 = c1.wallet(DEPLOYER);
  const d = await deployContracts(w1, c1.client);
  const ih = '0x7777777777777777777777777777777777777777';
  await c1.client.waitForTransactionReceipt({ hash: await w1.writeContract({ address: d.registry, abi: contentRegistry.abi, functionName: 'register', args: [ih, `0x${'00'.repeat(32)}`, 'bafy-last-moment', ''] }) });
  // Its node was killed: it has SIGTERM and will write its state on the way out. Held stopped for a
  // second here, so that the next start surely comes first.
  first.process.kill('SIGSTOP');
  first.process.kill('SIGTERM');
  setTimeout(() => first.process.kill('SIGCONT'), 1000);
  const started = Date.now();
  const second = await startAnvil({ statePath });
  t.after(() => second.stop());
  assert.ok(first.process.exitCode !== null || first.process.signalCode !== null, 'the old one had gone');
  assert.ok(Date.now() - started >= 900, 'the start waited for it');
  const rec = (await clientsOf(second).client.readContract({ address: d.registry, abi: contentRegistry.abi, functionName: 'recordOf', args: [ih] })) as { metadataCid: string };
  assert.equal(rec.metadataCid, 'bafy-last-moment', 'what it wrote on its way out');
});
