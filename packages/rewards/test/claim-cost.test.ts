// What a claim and a `rewards` read cost on the chain as a node's held receipts pile up (issue 63:
// a node keeps each downloader's newest receipt per torrent for 30 days). A receipt the pool has
// paid in full is not read or simulated again; a newer one from the same downloader is, and pays
// the difference. On a real embedded chain (anvil), the calls counted as the node's client makes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NodeChain, register } from '@cascade/chain';
import { signReceiptWithSecret, type Receipt } from '@cascade/chain/receipts';
import type { NodeLog } from '@cascade/node/rewards-host';
import { ReceiptExchange, type ReceiptPeers } from '../src/receipt-exchange.ts';
import { ReceiptStore } from '../src/receipt-store.ts';
import { sqlite } from '../../node/test/store-engines.ts';
import { addressFromSecret } from '@cascade/identity';

const IH = 'd'.repeat(40);
const DOWNLOADERS = 12;

test('a claim reads and submits only the receipts the pool has not paid in full; rewards reads none of those', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-claim-cost-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chain = await NodeChain.start({ stateDir: dir, ethSecret: new Uint8Array(randomBytes(32)) });
  t.after(() => chain.close());
  await register(chain, IH, 'bafy');

  // The chain calls the exchange makes, by kind: each paidBytes read, each simulated claim.
  const calls = { paidBytes: 0, simulate: 0 };
  const client = chain.client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const [name, count] of [['readContract', (a: { functionName?: string }) => a.functionName === 'paidBytes' && calls.paidBytes++], ['simulateContract', () => calls.simulate++]] as const) {
    const real = client[name]!.bind(client);
    client[name] = (...a: unknown[]) => (count(a[0] as { functionName?: string }), real(...a));
  }

  const store = await sqlite()(t);
  const receipts = new ReceiptStore({ store, stateDir: dir });
  await receipts.ready;
  const log: NodeLog = { event: () => {}, say: () => {}, note: () => {} };
  const peers: ReceiptPeers = { onMessage: () => {}, of: () => undefined, wirePeer: () => undefined, ledger: { hashFailed: () => {} } };
  const exchange = new ReceiptExchange(receipts, peers, { chain, terms: async () => undefined, whenRunning: async () => {} }, log);
  t.after(() => exchange.close());

  const expiry = (await chain.client.getBlock()).timestamp + 7n * 86_400n;
  const secrets = Array.from({ length: DOWNLOADERS }, () => new Uint8Array(randomBytes(32)));
  const hold = async (secret: Uint8Array, cumulativeBytes: bigint) => {
    const downloader = addressFromSecret(secret);
    const r: Receipt = { chainId: BigInt(chain.chain.id), pool: chain.contracts.pool, infoHash: `0x${IH}`, seeder: chain.account.address, downloader, cumulativeBytes, expiry };
    await receipts.hold({ infoHash: IH, downloader: downloader.toLowerCase(), seeder: r.seeder, cumulativeBytes, expiry, chainId: r.chainId, pool: r.pool, signature: signReceiptWithSecret(secret, r) });
  };
  for (const s of secrets) await hold(s, 1000n);

  const first = await exchange.claim();
  assert.equal(first.claimedBytes, DOWNLOADERS * 1000);
  assert.deepEqual(calls, { paidBytes: 2 * DOWNLOADERS, simulate: DOWNLOADERS + 1 }, 'the first claim reads each receipt before and after, and simulates each and the batch');

  // Everything paid: a second claim asks the chain nothing about them, and neither does rewards.
  calls.paidBytes = calls.simulate = 0;
  const second = await exchange.claim();
  assert.deepEqual({ tx: second.tx, claimedBytes: second.claimedBytes }, { tx: null, claimedBytes: 0 });
  const rewards = await exchange.rewards(chain);
  assert.deepEqual([rewards.earnedBytes, rewards.claimedBytes, rewards.pendingBytes, rewards.receipts], [DOWNLOADERS * 1000, DOWNLOADERS * 1000, 0, DOWNLOADERS]);
  assert.deepEqual(calls, { paidBytes: 0, simulate: 0 }, 'receipts paid in full are not read or simulated again (before: 3 reads and a simulation each)');

  // A newer receipt from one downloader is read and claimed for what it adds; the rest stay untouched.
  await hold(secrets[3]!, 1500n);
  const third = await exchange.claim();
  assert.equal(third.claimedBytes, 500);
  assert.deepEqual(calls, { paidBytes: 2, simulate: 2 });
  const after = await exchange.rewards(chain);
  assert.deepEqual([after.earnedBytes, after.claimedBytes, after.pendingBytes], [DOWNLOADERS * 1000 + 500, DOWNLOADERS * 1000 + 500, 0]);

  // A restarted node reads the paid counts it stored: still nothing asked of the chain.
  calls.paidBytes = calls.simulate = 0;
  const reread = new ReceiptStore({ store, stateDir: dir });
  await reread.ready;
  const again = new ReceiptExchange(reread, peers, { chain, terms: async () => undefined, whenRunning: async () => {} }, log);
  t.after(() => again.close());
  assert.equal((await again.claim()).claimedBytes, 0);
  assert.deepEqual(calls, { paidBytes: 0, simulate: 0 }, 'after a restart');

  // The pool counts per seeder: a receipt naming another seeder starts from nothing paid, in memory
  // and in the state (else it would be taken as paid in full, and never claimed).
  const other = addressFromSecret(new Uint8Array(32).fill(7));
  const d0 = reread.allHeld()[0]!;
  await reread.hold({ ...d0, seeder: other, cumulativeBytes: 800n });
  assert.equal(reread.held(d0.infoHash, d0.downloader)!.paidBytes, 0n);
  const third2 = new ReceiptStore({ store, stateDir: dir });
  await third2.ready;
  assert.equal(third2.held(d0.infoHash, d0.downloader)!.paidBytes, 0n);
  const kept = reread.allHeld().filter((h) => h.downloader !== d0.downloader);
  assert.deepEqual(kept.map((h) => third2.held(h.infoHash, h.downloader)!.paidBytes === h.cumulativeBytes), kept.map(() => true), 'the others keep theirs');
});
