// Buying a listing with the browser's own wallet (EIP-1193, `window.ethereum`; issue 62): the wallet
// pays and signs, the node the user is signed in to receives. The node gives the chain, the market
// contract and its X25519 key (GET /api/market/wallet); the page checks the wallet is on that chain,
// that it holds the price, approves the token (an ERC-20) when the allowance is short, simulates `buy`
// (eth_call: a refusal costs nothing and is said in words), then sends it. The key the seller's node
// seals to is the node's, so the node opens the share as if it had bought it. Calls are encoded here
// (all arguments are static ABI words): the page carries no Ethereum library.
import { walletAccount, walletChainId, walletProvider, type Eip1193Provider } from '../../identity/wallet.ts';
import type { MarketListing, MarketWalletTerms } from '../../api/market-api.ts';

/** Function selectors (keccak256 of the signatures' first 4 bytes). */
const SEL = { buy: '2d0da057', approve: '095ea7b3', allowance: 'dd62ed3e', balanceOf: '70a08231' } as const;
/** Bought(uint256 indexed orderId, uint256 indexed listingId, address indexed buyer, …)'s topic. */
const BOUGHT = '0xf557d79ba0ef342f582db9938722ee8d9ad1bac10270b83f37f1e4b9b2b897a8';
/** The contract's errors a buyer can meet, by selector (CascadeMarket.sol, OpenZeppelin's ERC-20). */
const ERRORS: Record<string, string> = {
  b146165a: 'no such listing',
  d176cea0: 'the listing is delisted',
  '2d6ac127': 'the listing now takes another token: read the listings again',
  '6871963e': 'the listing’s price changed: read the listings again and buy at the new price',
  '195a3ca1': 'the amount sent is not the price',
  e3783edd: 'the node’s key is not an X25519 key',
  e450d38c: 'the wallet holds less of the token than the price',
  fb8f41b2: 'the market may not take that much of the token (the approval did not go through)',
};

const word = (hex: string) => hex.replace(/^0x/, '').toLowerCase().padStart(64, '0');
const uint = (v: bigint | string) => word(BigInt(v).toString(16));

export type WalletStep = 'connect' | 'approve' | 'buy' | 'confirm';

export interface WalletBuyResult {
  tx: string;
  orderId: string;
  from: string;
}

/** Buys `l` with the browser's wallet for the node (`terms`); `step` tells the page what is happening. */
export async function buyWithWallet(l: Pick<MarketListing, 'id' | 'token' | 'price' | 'priceShown'>, terms: MarketWalletTerms, step: (s: WalletStep) => void): Promise<WalletBuyResult> {
  const eth = walletProvider();
  if (!eth) throw new Error('No Ethereum wallet in this browser (window.ethereum).');
  step('connect');
  const from = await walletAccount();
  await onChain(eth, terms.chainId);
  const ether = BigInt(l.token) === 0n;
  const price = BigInt(l.price);
  if (ether) {
    const balance = BigInt((await eth.request({ method: 'eth_getBalance', params: [from, 'latest'] })) as string);
    if (balance < price) throw new Error(`Your wallet ${short(from)} holds less ether than the price (${l.priceShown}): nothing was paid.`);
  } else {
    const balance = BigInt(await call(eth, l.token, `0x${SEL.balanceOf}${word(from)}`));
    if (balance < price) throw new Error(`Your wallet ${short(from)} holds less of the token than the price (${l.priceShown}): nothing was paid.`);
    const allowed = BigInt(await call(eth, l.token, `0x${SEL.allowance}${word(from)}${word(terms.market)}`));
    if (allowed < price) {
      step('approve');
      await mined(eth, await send(eth, { from, to: l.token, data: `0x${SEL.approve}${word(terms.market)}${uint(price)}` }), 'the approval');
    }
  }
  const tx = { from, to: terms.market, data: `0x${SEL.buy}${uint(l.id)}${word(l.token)}${uint(price)}${word(terms.buyerKey)}`, ...(ether ? { value: `0x${price.toString(16)}` } : {}) };
  // Simulated first: a listing changed or delisted meanwhile is refused here, and nothing is sent.
  try {
    await eth.request({ method: 'eth_call', params: [tx, 'latest'] });
  } catch (err) {
    throw new Error(`The market refuses this purchase: ${reason(err)}. Nothing was paid.`);
  }
  step('buy');
  const hash = await send(eth, tx);
  step('confirm');
  const receipt = await mined(eth, hash, 'the purchase');
  const log = receipt.logs.find((g) => g.address.toLowerCase() === terms.market.toLowerCase() && g.topics[0] === BOUGHT);
  if (!log?.topics[1]) throw new Error(`The purchase ${hash} was mined but the market recorded no order.`);
  return { tx: hash, orderId: BigInt(log.topics[1]).toString(), from };
}

/** The wallet must be on the market's chain: asked to switch, else refused in words. */
async function onChain(eth: Eip1193Provider, chainId: number): Promise<void> {
  const on = await walletChainId();
  if (on === chainId) return;
  try {
    await eth.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: `0x${chainId.toString(16)}` }] });
  } catch {
    // Below: said plainly.
  }
  const now = await walletChainId();
  if (now !== chainId) throw new Error(`Wrong network: your wallet is on chain ${now}, this market is on chain ${chainId}. Switch networks in your wallet (nothing was paid).`);
}

async function call(eth: Eip1193Provider, to: string, data: string): Promise<string> {
  const r = await eth.request({ method: 'eth_call', params: [{ to, data }, 'latest'] });
  if (typeof r !== 'string' || !/^0x[0-9a-fA-F]*$/.test(r) || r === '0x') throw new Error(`${to} answered no value: is it an ERC-20 on this chain?`);
  return r;
}

async function send(eth: Eip1193Provider, tx: Record<string, string>): Promise<string> {
  try {
    const hash = await eth.request({ method: 'eth_sendTransaction', params: [tx] });
    if (typeof hash !== 'string') throw new Error('the wallet returned no transaction');
    return hash;
  } catch (err) {
    if ((err as { code?: number }).code === 4001) throw new Error('You declined in your wallet: nothing was paid.');
    throw err;
  }
}

interface Receipt {
  status: string;
  logs: { address: string; topics: string[] }[];
}

async function mined(eth: Eip1193Provider, hash: string, what: string): Promise<Receipt> {
  for (let i = 0; i < 600; i++) {
    const r = (await eth.request({ method: 'eth_getTransactionReceipt', params: [hash] })) as Receipt | null;
    if (r) {
      if (r.status !== '0x1') throw new Error(`${what} (${hash}) failed on chain.`);
      return r;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error(`${what} (${hash}) is not mined after 5 minutes: look it up in your wallet.`);
}

/** A revert's reason from a provider's error (its data: the error's selector and arguments). */
function reason(err: unknown): string {
  const e = err as { data?: unknown; message?: string; error?: { data?: unknown } };
  const data = [e.data, e.error?.data, (e.data as { data?: unknown } | undefined)?.data].find((d): d is string => typeof d === 'string' && d.startsWith('0x'));
  const known = data ? ERRORS[data.slice(2, 10).toLowerCase()] : undefined;
  return known ?? e.message ?? 'reverted';
}

const short = (a: string) => `${a.slice(0, 6)}…${a.slice(-4)}`;
