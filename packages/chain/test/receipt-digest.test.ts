// Receipts signed and checked without viem (issue 40) are viem's, byte for byte: the EIP-712
// digest equals hashTypedData's, the signature signTypedData's (deterministic), checkReceipt
// recovers the signer of either, and refuses a tampered field; the embedded chain's predicted
// pool address comes from the dev deployer, whose address is its key's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { getContractAddress, hashTypedData, toHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { checkReceipt, receiptDomain, RECEIPT_TYPES, signReceipt, signReceiptWithSecret, type Receipt } from '../src/receipts/receipts.ts';
import { receiptDigest } from '../src/receipts/receipt-digest.ts';
import { createdAddress, DEV_DEPLOYER, DEV_DEPLOYER_KEY } from '../src/receipts/receipt-terms.ts';

test('receipt digest and signature without viem are viem\'s; checks refuse a tampered receipt', async () => {
  for (let i = 0; i < 20; i++) {
    const secret = new Uint8Array(randomBytes(32));
    const account = privateKeyToAccount(toHex(secret));
    const r: Receipt = {
      chainId: BigInt(1 + (i * 7919) % 100_000),
      pool: toHex(randomBytes(20)),
      infoHash: toHex(randomBytes(20)),
      seeder: toHex(randomBytes(20)),
      downloader: account.address,
      cumulativeBytes: BigInt(i) * 2n ** 40n + 12345n,
      expiry: BigInt(Math.floor(Date.now() / 1000) + 86_400),
    };
    const viemDigest = hashTypedData({ domain: receiptDomain(r.chainId, r.pool), types: RECEIPT_TYPES, primaryType: 'Receipt', message: r });
    assert.equal(toHex(receiptDigest(r)), viemDigest);
    const ours = signReceiptWithSecret(secret, r);
    assert.equal(ours, await signReceipt(account, r));
    assert.equal(await checkReceipt(r, ours, { chainId: r.chainId, pool: r.pool }), undefined);
    const inflated = { ...r, cumulativeBytes: r.cumulativeBytes + 1n };
    assert.match((await checkReceipt(inflated, ours, { chainId: r.chainId, pool: r.pool }))!, /not by the downloader/);
    assert.equal(await checkReceipt(r, `0x${'00'.repeat(65)}`, { chainId: r.chainId, pool: r.pool }), 'malformed signature');
  }
  assert.equal(privateKeyToAccount(DEV_DEPLOYER_KEY).address, DEV_DEPLOYER);
  for (const nonce of [0, 1, 2, 5, 127]) {
    assert.equal(createdAddress(DEV_DEPLOYER, nonce).toLowerCase(), getContractAddress({ from: DEV_DEPLOYER, nonce: BigInt(nonce) }).toLowerCase());
  }
});
