// The market contract through a node's chain (viem, as @cascade/chain's registry and rewards are):
// reads of listings and orders, and the transactions, each simulated first so a refusal comes back
// as the contract's error name and nothing is sent.
import { BaseError, ContractFunctionRevertedError, erc20Abi, type Address, type Hex, type PublicClient } from 'viem';
import { cascadeMarket, type NodeChain } from '@cascade/chain';
import { NodeError, type NodeErrorKind } from '@cascade/node/basics';
import { marketLogs } from './logs.ts';
import { ETHER, parseDetails, showPrice, type ListingDetails } from './terms.ts';

/** What of a node's chain the market uses. */
export type MarketChain = Pick<NodeChain, 'client' | 'chain' | 'contracts' | 'write' | 'mined' | 'sender' | 'exclusive'>;

export interface ChainListing {
  id: bigint;
  seller: Address;
  royaltyBps: number;
  deliverySeconds: number;
  active: boolean;
  token: Address;
  sales: bigint;
  infoHash: string;
  price: bigint;
  keyCommitment: Hex;
  details: Partial<ListingDetails>;
}

export const ORDER_STATES = ['none', 'paid', 'delivered', 'refunded'] as const;

export interface ChainOrder {
  id: bigint;
  listingId: bigint;
  buyer: Address;
  deadline: number;
  state: (typeof ORDER_STATES)[number];
  token: Address;
  royaltyTo: Address;
  price: bigint;
  royalty: bigint;
  buyerKey: Hex;
  envelopeHash: Hex;
}

/** A refusal by the contract (its error's name and arguments), or a transaction that failed. */
export class MarketRefused extends NodeError {
  readonly errorName: string;
  constructor(errorName: string, message: string) {
    super(kindOf(errorName), message);
    this.errorName = errorName;
  }
}

/** The contract's errors as the node's kinds: what the CLI's exit code and the HTTP status say. */
function kindOf(errorName: string): NodeErrorKind {
  if (errorName === 'UnknownListing' || errorName === 'UnknownOrder') return 'not-found';
  if (['NotListed', 'NotPaid', 'DeadlinePassed', 'DeadlineNotPassed', 'NotSeller', 'NotOwner', 'NothingOwed'].includes(errorName)) return 'conflict';
  if (['Failed', 'NoMarket'].includes(errorName) || errorName.startsWith('ERC20')) return 'failed';
  return 'invalid';
}

export function marketAddress(chain: MarketChain): Address {
  const a = chain.contracts.market;
  if (!a) throw new MarketRefused('NoMarket', `chain ${chain.chain.id} has no market contract (deploy one with \`cascade chain deploy\` and give its "market" in --chain-contracts)`);
  return a;
}

const abi = cascadeMarket.abi;

export async function readListing(chain: MarketChain, id: bigint, details: Partial<ListingDetails> = {}): Promise<ChainListing | undefined> {
  const l = (await chain.client.readContract({ address: marketAddress(chain), abi, functionName: 'listingOf', args: [id] })) as {
    seller: Address; royaltyBps: number; deliverySeconds: number; active: boolean; token: Address; sales: bigint; infoHash: Hex; price: bigint; keyCommitment: Hex;
  };
  if (l.seller === ETHER) return undefined;
  return { id, ...l, infoHash: l.infoHash.slice(2).toLowerCase(), details };
}

export async function readOrder(chain: MarketChain, id: bigint): Promise<ChainOrder | undefined> {
  const o = (await chain.client.readContract({ address: marketAddress(chain), abi, functionName: 'orderOf', args: [id] })) as Omit<ChainOrder, 'id' | 'state' | 'deadline'> & { state: number; deadline: bigint };
  if (o.state === 0) return undefined;
  return { ...o, id, deadline: Number(o.deadline), state: ORDER_STATES[o.state] ?? 'none' };
}

/** The listings' details from their Listed events since `fromBlock` (0: since the market's deployment). */
export async function listedDetails(chain: MarketChain, filter: { seller?: Address } = {}, fromBlock = 0n, toBlock?: bigint): Promise<Map<bigint, Partial<ListingDetails>>> {
  const logs = await marketLogs(chain, marketAddress(chain), 'Listed', filter.seller ? { seller: filter.seller } : undefined, fromBlock, toBlock);
  const out = new Map<bigint, Partial<ListingDetails>>();
  for (const log of logs as { args: { listingId: bigint; details: string } }[]) out.set(log.args.listingId, parseDetails(log.args.details));
  return out;
}

/** Orders bought by `buyer`, or of the listings `listingIds`, from `fromBlock` on (to `toBlock`, default the latest). */
export async function boughtOrders(chain: MarketChain, filter: { buyer?: Address; listingIds?: bigint[] }, fromBlock = 0n, toBlock?: bigint): Promise<bigint[]> {
  if (filter.listingIds && filter.listingIds.length === 0) return [];
  const args = filter.buyer ? { buyer: filter.buyer } : { listingId: filter.listingIds };
  const logs = await marketLogs(chain, marketAddress(chain), 'Bought', args, fromBlock, toBlock);
  return (logs as { args: { orderId: bigint } }[]).map((l) => l.args.orderId);
}

/**
 * This node's purchases from `fromBlock` on: bought by its account, or by anyone for its X25519 key
 * (a browser's wallet paying for the node the user is signed in to). The key is not an indexed topic,
 * so every Bought of the range is read and filtered here.
 */
export async function boughtFor(chain: MarketChain, buyer: Address, buyerKey: Hex, fromBlock = 0n, toBlock?: bigint): Promise<bigint[]> {
  const logs = await marketLogs(chain, marketAddress(chain), 'Bought', undefined, fromBlock, toBlock);
  const key = buyerKey.toLowerCase();
  return (logs as { args: { orderId: bigint; buyer: Address; buyerKey: Hex } }[])
    .filter((l) => l.args.buyer.toLowerCase() === buyer.toLowerCase() || l.args.buyerKey.toLowerCase() === key)
    .map((l) => l.args.orderId);
}

/** The envelope the seller posted for an order (undefined: not delivered). */
export async function envelopeOf(chain: MarketChain, orderId: bigint): Promise<Uint8Array | undefined> {
  const logs = await marketLogs(chain, marketAddress(chain), 'Delivered', { orderId });
  const e = (logs as { args: { envelope: Hex } }[])[0]?.args.envelope;
  return e ? new Uint8Array(Buffer.from(e.slice(2), 'hex')) : undefined;
}

/** A token's symbol and decimals (ether: ETH, 18). */
export async function tokenInfo(chain: MarketChain, token: Address): Promise<{ symbol: string; decimals: number }> {
  if (token === ETHER) return { symbol: 'ETH', decimals: 18 };
  try {
    const [symbol, decimals] = await Promise.all([
      chain.client.readContract({ address: token, abi: erc20Abi, functionName: 'symbol' }),
      chain.client.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' }),
    ]);
    return { symbol, decimals };
  } catch {
    throw new MarketRefused('NotAToken', `${token} is not an ERC-20 token on chain ${chain.chain.id}`);
  }
}

export async function priceShown(chain: MarketChain, token: Address, units: bigint): Promise<{ symbol: string; shown: string }> {
  const t = await tokenInfo(chain, token);
  return { symbol: t.symbol, shown: showPrice(units, t.decimals, t.symbol) };
}

/** Sends a market (or token) call from the node's account: simulated first, then sent and mined. */
export async function send(chain: MarketChain, what: string, call: { address: Address; abi: typeof abi | typeof erc20Abi; functionName: string; args: readonly unknown[]; value?: bigint }): Promise<{ tx: Hex; gasUsed: bigint; logs: { topics: readonly Hex[]; data: Hex }[] }> {
  return chain.exclusive(async () => {
    try {
      // 'pending': the block the transaction goes into, with the time it will have (a dev chain that
      // mines only on demand keeps its latest block's old time: a refund past the deadline looks early).
      await chain.client.simulateContract({ ...call, account: await chain.sender(), chain: chain.chain, blockTag: 'pending' } as Parameters<PublicClient['simulateContract']>[0]);
      const tx = await chain.write(call as Parameters<MarketChain['write']>[0]);
      const receipt = await chain.mined(tx, what);
      if (receipt.status !== 'success') throw new MarketRefused('Failed', `${what}: transaction ${tx} failed`);
      return { tx, gasUsed: receipt.gasUsed, logs: receipt.logs as { topics: readonly Hex[]; data: Hex }[] };
    } catch (err) {
      throw refusal(err, what);
    }
  });
}

/** The contract's error, named and said plainly; anything else as it came. */
export function refusal(err: unknown, what: string): unknown {
  if (err instanceof MarketRefused || !(err instanceof BaseError)) return err;
  const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) return err;
  const name = revert.data?.errorName ?? revert.reason ?? 'reverted';
  const args = (revert.data?.args ?? []).map((a) => String(a));
  return new MarketRefused(name, `${what}: the market refused: ${explain(name, args)}`);
}

/** A refusal the node makes itself, said as the contract's would be. */
export function refused(name: string, what: string, args: string[]): MarketRefused {
  return new MarketRefused(name, `${what}: the market refused: ${explain(name, args)}`);
}

function explain(name: string, a: string[]): string {
  switch (name) {
    case 'UnknownListing': return `no listing ${a[0]}`;
    case 'UnknownOrder': return `no order ${a[0]}`;
    case 'NotListed': return `listing ${a[0]} is delisted`;
    case 'NotSeller': return `${a[1]} is not the seller of listing ${a[0]}`;
    case 'ZeroPrice': return 'the price must be more than 0';
    case 'WrongToken': return `the listing takes ${a[0]}, not ${a[1]}`;
    case 'WrongPrice': return `the listing's price is now ${a[0]}, not ${a[1]}: look again and buy at that price`;
    case 'WrongValue': return `expected ${a[0]} wei with the call, got ${a[1]}`;
    case 'BadBuyerKey': return 'the buyer key is not an X25519 public key';
    case 'BadEnvelope': return `an envelope is 80 bytes, not ${a[0]}`;
    case 'NotPaid': return `the order is ${ORDER_STATES[Number(a[1])] ?? a[1]}, not paid`;
    case 'DeadlinePassed': return `the order's delivery deadline passed (${new Date(Number(a[1]) * 1000).toISOString()}): it can only be refunded`;
    case 'DeadlineNotPassed': return `the seller has until ${new Date(Number(a[1]) * 1000).toISOString()} to deliver; a refund comes after that`;
    case 'BadRoyalty': return `royalty ${Number(a[0]) / 100}% is outside what the owner asks (at least ${Number(a[1]) / 100}%) or over 50%`;
    case 'BadDeliveryTime': return 'the delivery time must be 1 second to 30 days';
    case 'EmptyInfoHash': return 'no infohash';
    case 'EmptyCommitment': return 'no key commitment';
    case 'ERC20InsufficientBalance': return `the account holds ${a[1]} of the token, the price is ${a[2]}`;
    case 'ERC20InsufficientAllowance': return 'the market may not take that much of the token';
    default: return `${name}(${a.join(', ')})`;
  }
}
