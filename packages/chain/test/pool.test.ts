// The reward pool on a real dev chain: receipts signed by downloaders pay seeders for what they
// add (cumulative - paid), once; forged, expired, self-dealt, other-pool, other-chain and
// unregistered receipts are refused; a downloader's receipts pay at most the cap per epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { cascadeToken, contentRegistry, rewardPool } from '../src/contracts/artifacts.ts';
import { checkReceipt, signReceipt, type Receipt } from '../src/receipts/receipts.ts';
import { receiptKey } from '../src/records/rewards.ts';
import { DEPLOYER, RELAYER, revertOf, testChain } from './helpers.ts';

const IH = '0x3333333333333333333333333333333333333333' as Hex;
const UNREGISTERED = '0x4444444444444444444444444444444444444444' as Hex;
const RATE = 1000n; // token units per byte
const CAP = 1_000_000n; // bytes per downloader per epoch

test('receipts pay seeders once per byte; forged, expired, self-dealt and misdirected ones are refused; the cap holds per epoch', { timeout: 90_000 }, async (t) => {
  const c = await testChain(t, { rewardPerByte: RATE, capBytesPerEpoch: CAP, epochSeconds: 3600n });
  const { pool, registry, token } = c.deployment;
  const relayer = c.wallet(RELAYER);
  const poolC = { address: pool, abi: rewardPool.abi } as const;
  await c.client.waitForTransactionReceipt({ hash: await c.wallet(DEPLOYER).writeContract({ address: registry, abi: contentRegistry.abi, functionName: 'register', args: [IH, `0x${'00'.repeat(32)}`, 'bafy', ''] }) });

  const seeder = privateKeyToAccount(generatePrivateKey()).address;
  const downloader = privateKeyToAccount(generatePrivateKey());
  const chainId = BigInt(c.anvil.chainId);
  const now = (await c.client.getBlock()).timestamp;
  const base: Receipt = { chainId, pool, infoHash: IH, seeder, downloader: downloader.address, cumulativeBytes: 300_000n, expiry: now + 3600n };
  const balance = () => c.client.readContract({ address: token, abi: cascadeToken.abi, functionName: 'balanceOf', args: [seeder] }) as Promise<bigint>;
  const claim = async (r: Receipt, sig: Hex) => {
    const hash = await relayer.writeContract({ ...poolC, functionName: 'claim', args: [r, sig] });
    return c.client.waitForTransactionReceipt({ hash });
  };
  const refused = async (r: Receipt, sig: Hex) => revertOf(c.client.simulateContract({ ...poolC, account: RELAYER, functionName: 'claim', args: [r, sig] }));

  // 300,000 bytes: paid at the rate, to the seeder, whoever submits it.
  const sig1 = await signReceipt(downloader, base);
  assert.equal(await checkReceipt(base, sig1, { chainId, pool }), undefined);
  assert.equal((await claim(base, sig1)).status, 'success');
  assert.equal(await balance(), 300_000n * RATE);
  // The same receipt again, or an older one: nothing new.
  assert.equal(await refused(base, sig1), 'NothingNew');
  const older = { ...base, cumulativeBytes: 100_000n };
  assert.equal(await refused(older, await signReceipt(downloader, older)), 'NothingNew');
  // A later receipt pays only the difference.
  const later = { ...base, cumulativeBytes: 500_000n };
  await claim(later, await signReceipt(downloader, later));
  assert.equal(await balance(), 500_000n * RATE);

  // Forged: signed by the seeder (or anyone) instead of the downloader, or a field changed after.
  const mallory = privateKeyToAccount(generatePrivateKey());
  const bigger = { ...base, cumulativeBytes: 900_000n };
  const forged = await mallory.signTypedData({ domain: { name: 'Cascade RewardPool', version: '1', chainId, verifyingContract: pool }, types: (await import('../src/receipts/receipts.ts')).RECEIPT_TYPES, primaryType: 'Receipt', message: bigger });
  assert.equal(await refused(bigger, forged), 'WrongSigner');
  assert.match((await checkReceipt(bigger, forged, { chainId, pool }))!, /not by the downloader/);
  const sigLater = await signReceipt(downloader, later);
  assert.equal(await refused({ ...later, cumulativeBytes: 900_000n }, sigLater), 'WrongSigner');
  // Expired, self-dealt, for another pool, for another chain, for an unregistered torrent.
  const expired = { ...bigger, expiry: now - 1n };
  assert.equal(await refused(expired, await signReceipt(downloader, expired)), 'ReceiptExpired');
  assert.equal(await checkReceipt(expired, await signReceipt(downloader, expired), { chainId, pool }), 'receipt expired');
  const selfDealt = { ...bigger, seeder: downloader.address };
  assert.equal(await refused(selfDealt, await signReceipt(downloader, selfDealt)), 'SelfDealing');
  const otherPool = { ...bigger, pool: registry };
  assert.equal(await refused(otherPool, await signReceipt(downloader, otherPool)), 'WrongPool');
  const otherChain = { ...bigger, chainId: 1n };
  assert.equal(await refused(otherChain, await signReceipt(downloader, otherChain)), 'WrongChain');
  const unregistered = { ...bigger, infoHash: UNREGISTERED };
  assert.equal(await refused(unregistered, await signReceipt(downloader, unregistered)), 'NotRegistered');
  assert.equal(await balance(), 500_000n * RATE, 'none of those paid anything');

  // The cap: 1,000,000 bytes per downloader per epoch. 500,000 are paid; a receipt for 1,700,000
  // pays 500,000 more now, then nothing until the next epoch, when it pays the rest.
  const large = { ...base, cumulativeBytes: 1_700_000n, expiry: now + 3n * 3600n };
  const sigLarge = await signReceipt(downloader, large);
  await claim(large, sigLarge);
  assert.equal(await balance(), 1_000_000n * RATE);
  assert.equal(await refused(large, sigLarge), 'CapReached');
  // The same downloader paying another seeder is under the same cap.
  const other = { ...base, seeder: RELAYER.address, cumulativeBytes: 10n };
  assert.equal(await refused(other, await signReceipt(downloader, other)), 'CapReached');
  await c.client.request({ method: 'evm_increaseTime' as never, params: [3600] as never });
  await c.client.request({ method: 'evm_mine' as never, params: [] as never });
  await claim(large, sigLarge);
  assert.equal(await balance(), 1_700_000n * RATE);
  assert.equal(await c.client.readContract({ ...poolC, functionName: 'paidBytes', args: [await c.client.readContract({ ...poolC, functionName: 'receiptKey', args: [IH, seeder, downloader.address] })] }), 1_700_000n);
});

test('claimBatch pays several receipts in one transaction; one refused receipt reverts the whole batch with its error', { timeout: 90_000 }, async (t) => {
  const c = await testChain(t, { rewardPerByte: RATE, capBytesPerEpoch: CAP });
  const { pool, registry, token } = c.deployment;
  const poolC = { address: pool, abi: rewardPool.abi } as const;
  await c.client.waitForTransactionReceipt({ hash: await c.wallet(DEPLOYER).writeContract({ address: registry, abi: contentRegistry.abi, functionName: 'register', args: [IH, `0x${'00'.repeat(32)}`, 'bafy', ''] }) });
  const seeder = privateKeyToAccount(generatePrivateKey()).address;
  const chainId = BigInt(c.anvil.chainId);
  const expiry = (await c.client.getBlock()).timestamp + 3600n;
  const d1 = privateKeyToAccount(generatePrivateKey());
  const d2 = privateKeyToAccount(generatePrivateKey());
  const r1: Receipt = { chainId, pool, infoHash: IH, seeder, downloader: d1.address, cumulativeBytes: 1000n, expiry };
  const r2: Receipt = { ...r1, downloader: d2.address, cumulativeBytes: 2500n };
  const sigs = [await signReceipt(d1, r1), await signReceipt(d2, r2)];
  const balance = () => c.client.readContract({ address: token, abi: cascadeToken.abi, functionName: 'balanceOf', args: [seeder] }) as Promise<bigint>;

  assert.equal(await revertOf(c.client.simulateContract({ ...poolC, account: RELAYER, functionName: 'claimBatch', args: [[r1, r2], [sigs[0]!]] })), 'LengthMismatch');
  const { result } = await c.client.simulateContract({ ...poolC, account: RELAYER, functionName: 'claimBatch', args: [[r1, r2], sigs] });
  assert.equal(result, 3500n);
  await c.client.waitForTransactionReceipt({ hash: await c.wallet(RELAYER).writeContract({ ...poolC, functionName: 'claimBatch', args: [[r1, r2], sigs] }) });
  assert.equal(await balance(), 3500n * RATE);
  // Again: the first receipt has nothing new, so the batch reverts and pays nothing.
  const r3 = { ...r1, cumulativeBytes: 4000n };
  assert.equal(await revertOf(c.client.simulateContract({ ...poolC, account: RELAYER, functionName: 'claimBatch', args: [[r3, r2], [await signReceipt(d1, r3), sigs[1]!]] })), 'NothingNew');
  assert.equal(await balance(), 3500n * RATE);
});

test('receiptKey computed off-chain is the pool’s own', { timeout: 60_000 }, async (t) => {
  const c = await testChain(t);
  const r = { infoHash: IH, seeder: RELAYER.address, downloader: DEPLOYER.address };
  const onChain = await c.client.readContract({ address: c.deployment.pool, abi: rewardPool.abi, functionName: 'receiptKey', args: [r.infoHash, r.seeder, r.downloader] });
  assert.equal(receiptKey(r), onChain);
});
