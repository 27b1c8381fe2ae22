// The content registry on a real dev chain (anvil): first registration wins, the owner alone
// transfers, anyone reads owner / metadata CID / block and time; registration relayed with the
// owner's EIP-712 signature, good once and only before its deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventLogs, zeroAddress, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { contentRegistry } from '../src/contracts/artifacts.ts';
import { signRegistration } from '../src/receipts/receipts.ts';
import { DEPLOYER, RELAYER, revertOf, testChain } from './helpers.ts';

const IH = '0x1111111111111111111111111111111111111111' as Hex;
const IH2 = '0x2222222222222222222222222222222222222222' as Hex;
const ROOT = `0x${'ab'.repeat(32)}` as Hex;
const CID = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

test('register, read, first registration wins, the owner alone transfers', { timeout: 60_000 }, async (t) => {
  const c = await testChain(t);
  const reg = { address: c.deployment.registry, abi: contentRegistry.abi } as const;
  const alice = c.wallet(DEPLOYER);
  const hash = await alice.writeContract({ ...reg, functionName: 'register', args: [IH, ROOT, CID, 'cid-of-content'] });
  const rcpt = await c.client.waitForTransactionReceipt({ hash });
  const [ev] = parseEventLogs({ abi: contentRegistry.abi, logs: rcpt.logs, eventName: 'Registered' }) as unknown as { args: { infoHash: Hex; owner: string; metadataCid: string } }[];
  assert.equal(ev!.args.infoHash, IH);
  assert.equal(ev!.args.owner, DEPLOYER.address);
  assert.equal(ev!.args.metadataCid, CID);

  const rec = (await c.client.readContract({ ...reg, functionName: 'recordOf', args: [IH] })) as { owner: string; blockNumber: bigint; registeredAt: bigint; metadataCid: string; v2Root: Hex; contentId: string };
  assert.equal(rec.owner, DEPLOYER.address);
  assert.equal(rec.metadataCid, CID);
  assert.equal(rec.v2Root, ROOT);
  assert.equal(rec.contentId, 'cid-of-content');
  assert.equal(rec.blockNumber, rcpt.blockNumber);
  const block = await c.client.getBlock({ blockNumber: rcpt.blockNumber });
  assert.equal(rec.registeredAt, block.timestamp);

  // First wins: Bob cannot take it, nor can Alice register it again.
  assert.equal(await revertOf(c.client.simulateContract({ account: RELAYER,  ...reg, functionName: 'register', args: [IH, ROOT, 'other', ''] })), 'AlreadyRegistered');
  // Only the owner transfers; to zero is refused; an unknown infohash is not registered.
  assert.equal(await revertOf(c.client.simulateContract({ account: RELAYER,  ...reg, functionName: 'transfer', args: [IH, RELAYER.address] })), 'NotOwner');
  assert.equal(await revertOf(c.client.simulateContract({ account: DEPLOYER,  ...reg, functionName: 'transfer', args: [IH, zeroAddress] })), 'ZeroAddress');
  assert.equal(await revertOf(c.client.simulateContract({ account: DEPLOYER,  ...reg, functionName: 'transfer', args: [IH2, RELAYER.address] })), 'NotRegistered');
  assert.equal(await revertOf(c.client.simulateContract({ account: DEPLOYER,  ...reg, functionName: 'register', args: ['0x0000000000000000000000000000000000000000', ROOT, CID, ''] })), 'EmptyInfoHash');
  // The Arweave transaction beside the record (issue 61): its owner alone sets it; recordOf's shape is unchanged.
  const AR = 'Ck3OtlCfyoxzC6bQ6VpZ5ov5tkXIxZOUxmbwqexfqZc';
  assert.equal(await c.client.readContract({ ...reg, functionName: 'arweaveTxOf', args: [IH] }), '');
  assert.equal(await revertOf(c.client.simulateContract({ account: RELAYER, ...reg, functionName: 'setArweaveTx', args: [IH, AR] })), 'NotOwner');
  assert.equal(await revertOf(c.client.simulateContract({ account: DEPLOYER, ...reg, functionName: 'setArweaveTx', args: [IH2, AR] })), 'NotRegistered');
  const stored = await c.client.waitForTransactionReceipt({ hash: await alice.writeContract({ ...reg, functionName: 'setArweaveTx', args: [IH, AR] }) });
  assert.deepEqual((parseEventLogs({ abi: contentRegistry.abi, logs: stored.logs, eventName: 'ArweaveStored' })[0] as unknown as { args: unknown }).args, { infoHash: IH, arweaveTx: AR });
  assert.equal(await c.client.readContract({ ...reg, functionName: 'arweaveTxOf', args: [IH] }), AR);
  const tx = await alice.writeContract({ ...reg, functionName: 'transfer', args: [IH, RELAYER.address] });
  const moved = await c.client.waitForTransactionReceipt({ hash: tx });
  assert.equal(parseEventLogs({ abi: contentRegistry.abi, logs: moved.logs, eventName: 'Transferred' }).length, 1);
  assert.equal(await c.client.readContract({ ...reg, functionName: 'ownerOf', args: [IH] }), RELAYER.address);
});

test('relayed registration: the owner signs, another account pays the gas; replays, late and forged signatures are refused', { timeout: 60_000 }, async (t) => {
  const c = await testChain(t);
  const reg = { address: c.deployment.registry, abi: contentRegistry.abi } as const;
  const relayer = c.wallet(RELAYER);
  const owner = privateKeyToAccount(generatePrivateKey()); // no ether at all
  const chainId = BigInt(c.anvil.chainId);
  const now = (await c.client.getBlock()).timestamp;
  const message = { infoHash: IH, v2Root: ROOT, metadataCid: CID, contentId: '', owner: owner.address, nonce: 0n, deadline: now + 3600n };
  const sig = await signRegistration(owner, chainId, c.deployment.registry, message);
  const args = [owner.address, IH, ROOT, CID, '', message.deadline, sig] as const;

  // Signed by somebody else for this owner; or a field changed after signing.
  const mallory = privateKeyToAccount(generatePrivateKey());
  const forged = await signRegistration(mallory, chainId, c.deployment.registry, message);
  assert.equal(await revertOf(c.client.simulateContract({ account: RELAYER,  ...reg, functionName: 'registerFor', args: [owner.address, IH, ROOT, CID, '', message.deadline, forged] })), 'WrongSigner');
  assert.equal(await revertOf(c.client.simulateContract({ account: RELAYER,  ...reg, functionName: 'registerFor', args: [owner.address, IH, ROOT, 'bafy-other', '', message.deadline, sig] })), 'WrongSigner');
  // Past its deadline.
  const late = { ...message, deadline: now - 1n };
  const lateSig = await signRegistration(owner, chainId, c.deployment.registry, late);
  assert.equal(await revertOf(c.client.simulateContract({ account: RELAYER,  ...reg, functionName: 'registerFor', args: [owner.address, IH, ROOT, CID, '', late.deadline, lateSig] })), 'SignatureExpired');

  const hash = await relayer.writeContract({ ...reg, functionName: 'registerFor', args });
  assert.equal((await c.client.waitForTransactionReceipt({ hash })).status, 'success');
  assert.equal(await c.client.readContract({ ...reg, functionName: 'ownerOf', args: [IH] }), owner.address, 'the signer owns it, not the relayer');
  // The same signature for another infohash: the nonce moved on, so it no longer matches.
  assert.equal(await revertOf(c.client.simulateContract({ account: RELAYER,  ...reg, functionName: 'registerFor', args: [owner.address, IH2, ROOT, CID, '', message.deadline, sig] })), 'WrongSigner');
  assert.equal(await c.client.readContract({ ...reg, functionName: 'nonces', args: [owner.address] }), 1n);
});
