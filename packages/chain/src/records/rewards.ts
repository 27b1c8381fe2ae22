// The node's side of the reward pool: what its receipts were paid for so far, and claiming them.
// Claims are checked against the chain before anything is sent (expired, nothing new, the
// downloader's cap spent this epoch), so the batch the node submits is one the pool accepts; what
// is left out is reported with the reason rather than burning gas on a revert. The pool pays the
// receipt's seeder whoever submits it, so an external signer's account may send the claims: the
// tokens still go to the node's identity account.
import { BaseError, ContractFunctionRevertedError, encodePacked, keccak256, type Address, type Hex } from 'viem';
import { cascadeToken, rewardPool } from '../contracts/artifacts.ts';
import type { NodeChain } from '../node-chain/node-chain.ts';
import type { Receipt } from '../receipts/receipts.ts';

export interface SignedReceipt {
  receipt: Receipt;
  signature: Hex;
}

export interface ClaimResult {
  /** null: nothing new to claim, no transaction sent. */
  tx: Hex | null;
  /** Bytes the pool paid for in this claim. */
  claimedBytes: number;
  /** Receipts left out, and why (the pool's error name or the node's reason). */
  skipped: { infoHash: string; downloader: string; reason: string }[];
}

/** At most this many receipts per transaction (a block's gas comfortably covers them). */
const BATCH = 50;
/** A receipt expiring within this many seconds is not worth a transaction that may land after it. */
const EXPIRY_MARGIN_S = 30n;

/** The pool's key for a (torrent, seeder, downloader): RewardPool.receiptKey, computed here rather
 *  than asked for (one call less per receipt). */
export function receiptKey(r: Pick<Receipt, 'infoHash' | 'seeder' | 'downloader'>): Hex {
  return keccak256(encodePacked(['bytes20', 'address', 'address'], [r.infoHash, r.seeder, r.downloader]));
}

export async function paidBytes(chain: NodeChain, r: Pick<Receipt, 'infoHash' | 'seeder' | 'downloader'>): Promise<bigint> {
  return (await chain.client.readContract({ address: chain.contracts.pool, abi: rewardPool.abi, functionName: 'paidBytes', args: [receiptKey(r)] })) as bigint;
}

export function tokenBalance(chain: NodeChain, account: Address = chain.account.address): Promise<bigint> {
  return chain.client.readContract({ address: chain.contracts.token, abi: cascadeToken.abi, functionName: 'balanceOf', args: [account] }) as Promise<bigint>;
}

export async function rewardRate(chain: NodeChain): Promise<bigint> {
  return (await chain.client.readContract({ address: chain.contracts.pool, abi: rewardPool.abi, functionName: 'rewardPerByte' })) as bigint;
}

/** Claims every receipt that would pay something, in batches of up to 50 per transaction. */
export async function claimReceipts(chain: NodeChain, held: SignedReceipt[]): Promise<ClaimResult> {
  const skipped: ClaimResult['skipped'] = [];
  const now = (await chain.client.getBlock()).timestamp;
  const payable: SignedReceipt[] = [];
  for (const s of held) {
    const r = s.receipt;
    const skip = (reason: string) => skipped.push({ infoHash: r.infoHash, downloader: r.downloader, reason });
    if (r.expiry <= now + EXPIRY_MARGIN_S) {
      skip('ReceiptExpired');
      continue;
    }
    const reason = await refusal(chain, s);
    if (reason === 'NothingNew') continue; // paid already: nothing to say
    if (reason) skip(reason);
    else payable.push(s);
  }
  let tx: Hex | null = null;
  let claimed = 0n;
  for (let i = 0; i < payable.length; i += BATCH) {
    const batch = payable.slice(i, i + BATCH);
    const args = [batch.map((s) => s.receipt), batch.map((s) => s.signature)] as const;
    const write = { address: chain.contracts.pool, abi: rewardPool.abi, functionName: 'claimBatch', args } as const;
    const { result } = await chain.client.simulateContract({ ...write, account: await chain.sender(), chain: chain.chain });
    const hash = await chain.write(write);
    const mined = await chain.mined(hash, `claim of ${batch.length} receipt${batch.length === 1 ? '' : 's'}`);
    if (mined.status !== 'success') throw new Error(`the claim transaction ${hash} failed`);
    tx = hash;
    claimed += result as bigint;
  }
  return { tx, claimedBytes: Number(claimed), skipped };
}

/** The pool's error for this receipt alone (undefined: it would pay). Two receipts of one
 *  downloader can still meet the cap together; the batch then reverts and the caller sees it. */
async function refusal(chain: NodeChain, s: SignedReceipt): Promise<string | undefined> {
  try {
    await chain.client.simulateContract({ address: chain.contracts.pool, abi: rewardPool.abi, functionName: 'claim', args: [s.receipt, s.signature], account: await chain.sender() });
    return undefined;
  } catch (err) {
    if (err instanceof BaseError) {
      const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
      if (revert instanceof ContractFunctionRevertedError) return revert.data?.errorName ?? revert.reason ?? 'reverted';
    }
    throw err;
  }
}
