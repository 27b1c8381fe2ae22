// The market's events, read in bounded block ranges from the block the contract was deployed in.
// Public RPCs refuse eth_getLogs from block 0 or over wide ranges ("block range is too wide",
// "query returned more than 10000 results", limits of 500 to 10,000 blocks): a node on such a chain
// could not list anything. So reads start at the contract's deployment block (its `deployedAt`;
// for a market deployed before it had one, the first block with its code, found by bisection), go
// in ranges of LOG_RANGE blocks, and a range the RPC refuses is halved and asked again.
import type { Address, PublicClient } from 'viem';
import { cascadeMarket, type NodeChain } from '@cascade/chain';

/** What of a node's chain reading logs takes (contract.ts's MarketChain has it). */
type MarketChain = Pick<NodeChain, 'client' | 'chain'>;

/** Blocks per eth_getLogs at first (CASCADE_MARKET_LOG_RANGE overrides); halved on each refusal. */
export const LOG_RANGE = BigInt(Number(process.env.CASCADE_MARKET_LOG_RANGE) || 5000);

/** The range each chain's RPC last accepted: later reads start there, not at a refusal. */
const accepted = new Map<number, bigint>();
/** Each market's deployment block, found once a process (it never changes). */
const deployed = new Map<string, Promise<bigint>>();

export function deploymentBlock(chain: MarketChain, market: Address): Promise<bigint> {
  const key = `${chain.chain.id}/${market.toLowerCase()}`;
  let p = deployed.get(key);
  if (!p) {
    p = findDeployment(chain.client as PublicClient, market);
    deployed.set(key, p);
    // A failure (the RPC down) is not remembered: the next read asks again.
    p.catch(() => deployed.delete(key));
  }
  return p;
}

async function findDeployment(client: PublicClient, market: Address): Promise<bigint> {
  try {
    return (await client.readContract({ address: market, abi: cascadeMarket.abi, functionName: 'deployedAt' })) as bigint;
  } catch {
    // A market from before `deployedAt`: bisect on whether its code exists (needs the chain's
    // history of state; a node that prunes it refuses, and reading starts at block 0 then).
  }
  let lo = 0n;
  let hi = await client.getBlockNumber({ cacheTime: 0 });
  try {
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      const code = await client.getCode({ address: market, blockNumber: mid });
      if (code && code !== '0x') hi = mid;
      else lo = mid + 1n;
    }
    return lo;
  } catch {
    return 0n;
  }
}

type GetEvents = Parameters<PublicClient['getContractEvents']>[0];

/**
 * The market's `eventName` logs matching `args`, from `fromBlock` (never before the deployment) to
 * `toBlock` (default: the latest block), in ranges the RPC accepts.
 */
export async function marketLogs(chain: MarketChain, market: Address, eventName: string, args: Record<string, unknown> | undefined, fromBlock = 0n, toBlock?: bigint): Promise<unknown[]> {
  const client = chain.client as PublicClient;
  const start = fromBlock > 0n ? fromBlock : await deploymentBlock(chain, market);
  // cacheTime 0: viem keeps a block number for seconds; a log mined since would be missed.
  const end = toBlock ?? (await client.getBlockNumber({ cacheTime: 0 }));
  const out: unknown[] = [];
  let range = accepted.get(chain.chain.id) ?? LOG_RANGE;
  for (let from = start; from <= end; ) {
    const to = from + range - 1n < end ? from + range - 1n : end;
    try {
      const logs = await client.getContractEvents({ address: market, abi: cascadeMarket.abi, eventName, fromBlock: from, toBlock: to, ...(args ? { args } : {}) } as GetEvents);
      out.push(...logs);
      from = to + 1n;
    } catch (err) {
      // Too wide (or too many results): ask for half. A single block refused is a real failure.
      if (range === 1n) throw err;
      range = range / 2n;
      accepted.set(chain.chain.id, range);
    }
  }
  return out;
}
