// A fresh anvil with the contracts deployed, viem clients, and a way to name a revert.
import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, http, type Account, type Chain, type PublicClient, type Transport, type WalletClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { defineChain } from 'viem';
import { startAnvil, type RunningAnvil } from '../src/node-chain/anvil.ts';
import { deployContracts, type Deployment, type PoolTerms } from '../src/contracts/deploy.ts';

// anvil's first two dev accounts (its well-known test mnemonic): they hold the test ether.
export const DEPLOYER = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
export const RELAYER = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d');

export interface TestChain {
  anvil: RunningAnvil;
  chain: Chain;
  client: PublicClient;
  wallet(account: Account): WalletClient<Transport, Chain, Account>;
  deployment: Deployment;
}

/** viem clients of a running anvil. */
export function clientsOf(anvil: RunningAnvil): Omit<TestChain, 'deployment'> {
  const chain = defineChain({ id: anvil.chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [anvil.rpcUrl] } } });
  const client = createPublicClient({ chain, transport: http(anvil.rpcUrl) }) as PublicClient;
  const wallet = (account: Account) => createWalletClient({ account, chain, transport: http(anvil.rpcUrl) });
  return { anvil, chain, client, wallet };
}

export async function testChain(t: { after: (fn: () => unknown) => void }, terms: PoolTerms = {}): Promise<TestChain> {
  const anvil = await startAnvil();
  t.after(() => anvil.stop());
  const c = clientsOf(anvil);
  const deployment = await deployContracts(c.wallet(DEPLOYER), c.client, terms);
  return { ...c, deployment };
}

/** The custom error a call reverted with ('' when it did not revert). */
export async function revertOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return '';
  } catch (err) {
    if (err instanceof BaseError) {
      const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
      if (revert instanceof ContractFunctionRevertedError) return revert.data?.errorName ?? revert.reason ?? 'reverted';
    }
    throw err;
  }
}
