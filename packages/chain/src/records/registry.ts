// The node's side of the content registry: register a torrent for the node's account, read who
// owns one. With an external signer the node's identity still owns the record: it signs the
// EIP-712 Register message and the signer's account submits it (registerFor) and pays the gas.
import { BaseError, ContractFunctionRevertedError, createPublicClient, http, type Address, type Hex, type PublicClient } from 'viem';
import { contentRegistry } from '../contracts/artifacts.ts';
import type { NodeChain } from '../node-chain/node-chain.ts';
import { signRegistration } from '../receipts/receipts.ts';

export interface RegistryRecord {
  owner: Address;
  metadataCid: string;
  block: number;
  registeredAt: number;
  v2Root: Hex;
  contentId: string;
  /** The Arweave transaction holding its metadata block (setArweaveTx); null when none is recorded,
   *  or the registry was deployed before it could record one. */
  arweaveTx: string | null;
}

const ZERO = '0x0000000000000000000000000000000000000000';

export function recordOf(chain: NodeChain, infoHashHex: string): Promise<RegistryRecord | undefined> {
  return readRecord(chain.client, chain.contracts.registry, infoHashHex);
}

/** The record on the registry at `registry` of the chain at `rpcUrl`, with no node and no key. */
export function recordAt(rpcUrl: string, registry: Address, infoHashHex: string): Promise<RegistryRecord | undefined> {
  return readRecord(createPublicClient({ transport: http(rpcUrl) }), registry, infoHashHex);
}

async function readRecord(client: Pick<PublicClient, 'readContract'>, registry: Address, infoHashHex: string): Promise<RegistryRecord | undefined> {
  const r = (await client.readContract({ address: registry, abi: contentRegistry.abi, functionName: 'recordOf', args: [`0x${infoHashHex}`] })) as {
    owner: Address;
    metadataCid: string;
    blockNumber: bigint;
    registeredAt: bigint;
    v2Root: Hex;
    contentId: string;
  };
  if (r.owner === ZERO) return undefined;
  const arweaveTx = await arweaveTxAt(client, registry, infoHashHex);
  return { owner: r.owner, metadataCid: r.metadataCid, block: Number(r.blockNumber), registeredAt: Number(r.registeredAt), v2Root: r.v2Root, contentId: r.contentId, arweaveTx };
}

/** The Arweave transaction recorded beside a record; null for none, and on a registry deployed before
 *  setArweaveTx existed (the call reverts there: its record shapes are the same). */
async function arweaveTxAt(client: Pick<PublicClient, 'readContract'>, registry: Address, infoHashHex: string): Promise<string | null> {
  try {
    const tx = (await client.readContract({ address: registry, abi: contentRegistry.abi, functionName: 'arweaveTxOf', args: [`0x${infoHashHex}`] })) as string;
    return tx === '' ? null : tx;
  } catch {
    return null;
  }
}

/** Records on chain, beside the node's record of `infoHashHex`, the Arweave transaction holding its
 *  metadata block. Only the record's owner may, from its own account: with an external signer the
 *  node's account has no gas to send it, and it is refused in words (the id stays in the node's record). */
export function recordArweaveTx(chain: NodeChain, infoHashHex: string, arweaveTx: string): Promise<{ tx: Hex; block: number }> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(arweaveTx)) return Promise.reject(new Error(`"${arweaveTx.slice(0, 60)}" is not an Arweave transaction id (43 base64url characters)`));
  return chain.exclusive(async () => {
    if (chain.signer) throw new Error('with an external signer the record\'s owner (this node\'s account) cannot send setArweaveTx; the transaction id stays in the node\'s record');
    const write = { address: chain.contracts.registry, abi: contentRegistry.abi, functionName: 'setArweaveTx', args: [`0x${infoHashHex}`, arweaveTx] as readonly unknown[] };
    try {
      await chain.client.simulateContract({ ...write, account: await chain.sender(), chain: chain.chain } as Parameters<typeof chain.client.simulateContract>[0]);
    } catch (err) {
      const revert = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : undefined;
      if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName) throw new Error(`the registry refused: ${revert.data.errorName}`);
      throw new Error(`the registry at ${chain.contracts.registry} cannot record it (deployed before setArweaveTx existed?): ${(err as Error).message.split('\n')[0]}`);
    }
    const tx = await chain.write(write);
    const receipt = await chain.mined(tx, `Arweave record of ${infoHashHex}`);
    if (receipt.status !== 'success') throw new Error(`the setArweaveTx transaction ${tx} failed`);
    return { tx, block: Number(receipt.blockNumber) };
  });
}

/** How long a relayed registration's signature stays good: the signer's user may take a while to approve. */
const RELAY_DEADLINE_S = 3600n;

/** Registers `infoHashHex` for the node's account; resolves with the mined transaction. Rejects
 *  with the contract's reason (another owner, say) before sending anything that would fail. */
export function register(chain: NodeChain, infoHashHex: string, metadataCid: string): Promise<{ tx: Hex; block: number }> {
  return chain.exclusive(async () => {
    const infoHash = `0x${infoHashHex}` as Hex;
    const v2Root = `0x${'00'.repeat(32)}` as Hex;
    const call = chain.signer
      ? { functionName: 'registerFor', args: await relayedArgs(chain, infoHash, v2Root, metadataCid) }
      : { functionName: 'register', args: [infoHash, v2Root, metadataCid, ''] as readonly unknown[] };
    const write = { address: chain.contracts.registry, abi: contentRegistry.abi, ...call };
    try {
      await chain.client.simulateContract({ ...write, account: await chain.sender(), chain: chain.chain } as Parameters<typeof chain.client.simulateContract>[0]);
      const tx = await chain.write(write);
      const receipt = await chain.mined(tx, `registration of ${infoHashHex}`);
      if (receipt.status !== 'success') throw new Error(`the registration transaction ${tx} failed`);
      return { tx, block: Number(receipt.blockNumber) };
    } catch (err) {
      if (err instanceof BaseError) {
        const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
        if (revert instanceof ContractFunctionRevertedError) throw new Error(`the registry refused: ${revert.data?.errorName ?? revert.reason}`);
      }
      throw err;
    }
  });
}

/** registerFor's arguments: the record for the node's account, signed by its identity key. */
async function relayedArgs(chain: NodeChain, infoHash: Hex, v2Root: Hex, metadataCid: string): Promise<readonly unknown[]> {
  const owner = chain.account.address;
  const [nonce, block] = await Promise.all([
    chain.client.readContract({ address: chain.contracts.registry, abi: contentRegistry.abi, functionName: 'nonces', args: [owner] }) as Promise<bigint>,
    chain.client.getBlock(),
  ]);
  const deadline = block.timestamp + RELAY_DEADLINE_S;
  const signature = await signRegistration(chain.account, BigInt(chain.chain.id), chain.contracts.registry, { infoHash, v2Root, metadataCid, contentId: '', owner, nonce, deadline });
  return [owner, infoHash, v2Root, metadataCid, '', deadline, signature];
}
