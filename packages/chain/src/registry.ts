// The node's side of the content registry: register a torrent from the node's account, read who
// owns one.
import { BaseError, ContractFunctionRevertedError, createPublicClient, http, type Address, type Hex, type PublicClient } from 'viem';
import { contentRegistry } from './artifacts.ts';
import type { NodeChain } from './node-chain.ts';

export interface RegistryRecord {
  owner: Address;
  metadataCid: string;
  block: number;
  registeredAt: number;
  v2Root: Hex;
  contentId: string;
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
  return { owner: r.owner, metadataCid: r.metadataCid, block: Number(r.blockNumber), registeredAt: Number(r.registeredAt), v2Root: r.v2Root, contentId: r.contentId };
}

/** Registers `infoHashHex` for the node's account; resolves with the mined transaction. Rejects
 *  with the contract's reason (another owner, say) before sending anything that would fail. */
export async function register(chain: NodeChain, infoHashHex: string, metadataCid: string): Promise<{ tx: Hex; block: number }> {
  const call = {
    address: chain.contracts.registry,
    abi: contentRegistry.abi,
    functionName: 'register',
    args: [`0x${infoHashHex}`, `0x${'00'.repeat(32)}`, metadataCid, ''],
    account: chain.account,
    chain: chain.chain,
  } as const;
  try {
    const { request } = await chain.client.simulateContract(call);
    const tx = await chain.wallet.writeContract(request);
    const receipt = await chain.client.waitForTransactionReceipt({ hash: tx });
    if (receipt.status !== 'success') throw new Error(`the registration transaction ${tx} failed`);
    return { tx, block: Number(receipt.blockNumber) };
  } catch (err) {
    if (err instanceof BaseError) {
      const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
      if (revert instanceof ContractFunctionRevertedError) throw new Error(`the registry refused: ${revert.data?.errorName ?? revert.reason}`);
    }
    throw err;
  }
}
