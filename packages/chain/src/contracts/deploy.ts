// Deploys the registry, the token and the reward pool, funds the pool, then the market (issue 62): what a node does on
// the first start of its embedded chain, and what the contract tests start from.
import { createPublicClient, createWalletClient, defineChain, http, type Address, type Hex, type PublicClient, type WalletClient, type Account, type Chain, type Transport } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { cascadeMarket, cascadeToken, contentRegistry, rewardPool, type Compiled } from './artifacts.ts';

export interface Deployment {
  registry: Address;
  token: Address;
  pool: Address;
  /** The market (CascadeMarket): absent on a chain deployed before it existed, or given without it. */
  market?: Address;
}

export interface PoolTerms {
  /** Token units per byte (default 10^9: one token, 10^18 units, per GB). */
  rewardPerByte?: bigint;
  /** Bytes one downloader's receipts pay for per epoch (default 10 GiB). */
  capBytesPerEpoch?: bigint;
  /** Epoch length in seconds (default one day). */
  epochSeconds?: bigint;
  /** Token units minted (default 10^9 tokens) and moved to the pool (default all of them). */
  supply?: bigint;
  poolFunding?: bigint;
}

type Wallet = WalletClient<Transport, Chain | undefined, Account>;

async function deploy(wallet: Wallet, client: PublicClient, c: Compiled, args: unknown[]): Promise<Address> {
  const hash = await wallet.deployContract({ abi: c.abi, bytecode: c.bytecode, args, account: wallet.account, chain: wallet.chain });
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress || receipt.status !== 'success') throw new Error(`deploying failed (${hash})`);
  return receipt.contractAddress;
}

export async function deployContracts(wallet: Wallet, client: PublicClient, terms: PoolTerms = {}): Promise<Deployment> {
  const owner = wallet.account.address;
  const supply = terms.supply ?? 10n ** 27n;
  const registry = await deploy(wallet, client, contentRegistry, []);
  const token = await deploy(wallet, client, cascadeToken, [owner, supply]);
  const pool = await deploy(wallet, client, rewardPool, [
    token,
    registry,
    terms.rewardPerByte ?? 10n ** 9n,
    terms.capBytesPerEpoch ?? 10n * 2n ** 30n,
    terms.epochSeconds ?? 86_400n,
    owner,
  ]);
  const hash = await wallet.writeContract({
    address: token,
    abi: cascadeToken.abi,
    functionName: 'transfer',
    args: [pool, terms.poolFunding ?? supply],
    account: wallet.account,
    chain: wallet.chain,
  });
  await client.waitForTransactionReceipt({ hash });
  // Last: the pool stays the dev deployer's third contract, where receiptTermsOf expects it.
  const market = await deployMarket(wallet, client, registry);
  return { registry, token, pool, market };
}

/** The market beside a registry already deployed (a chain deployed before the market existed). */
export function deployMarket(wallet: Wallet, client: PublicClient, registry: Address): Promise<Address> {
  return deploy(wallet, client, cascadeMarket, [registry]);
}

/** Deploys on the chain at `rpcUrl` with a funded private key; the result is what
 *  `serve --chain-contracts FILE` reads ("rewards" is the pool). Rejects with a plain reason when
 *  no chain answers there. */
export async function deployWithKey(rpcUrl: string, key: Hex, terms: PoolTerms = {}): Promise<{ chainId: number; registry: Address; rewards: Address; token: Address; market: Address }> {
  let chainId: number;
  try {
    chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId();
  } catch (err) {
    throw new Error(`no EVM chain answers at ${rpcUrl}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const chain = defineChain({ id: chainId, name: `chain ${chainId}`, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
  const client = createPublicClient({ chain, transport: http(rpcUrl) }) as PublicClient;
  const wallet = createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(rpcUrl) });
  const d = await deployContracts(wallet, client, terms);
  return { chainId, registry: d.registry, rewards: d.pool, token: d.token, market: d.market! };
}
