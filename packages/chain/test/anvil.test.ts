// The embedded chain keeps its state across restarts (anvil --state in the state dir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
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
