// What a node's receipts name — chain id, reward pool, and the account that signs — known without
// starting or asking its chain (issue 40): receipts are signed and checked while the embedded
// chain is not running yet, so it can start after a transfer instead of during it. Only
// viem/accounts and viem/utils are loaded here (the whole of viem costs twice the CPU).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { getContractAddress, toHex } from 'viem/utils';
import type { Deployment } from './deploy.ts';
import type { ExternalSignerOptions } from './signer.ts';

/** anvil's first dev account (its well-known test mnemonic): deploys and funds on the embedded chain only. */
export const DEV_DEPLOYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export interface NodeChainOptions {
  stateDir: string;
  /** The node identity's secp256k1 secret (its Ethereum account). */
  ethSecret: Uint8Array;
  /** An external chain instead of the embedded one. */
  rpcUrl?: string;
  chainId?: number;
  contracts?: Deployment;
  /** An external chain's transactions sent from an account of this signer instead. */
  signer?: ExternalSignerOptions;
}

/** What a receipt names and who signs it: all a node needs to sign or check receipts. */
export interface ReceiptTermsOf {
  chainId: bigint;
  pool: Address;
  account: PrivateKeyAccount;
}

/**
 * The chain id and pool a node's receipts name: an external chain's as configured; the embedded
 * chain's from <stateDir>/chain/deployment.json, or, before its first start, where deployContracts
 * puts the pool on a fresh anvil (the dev deployer's third contract: registry, token, pool).
 * NodeChain.start() deploys exactly so (checked by a test).
 */
export function receiptTermsOf(opts: NodeChainOptions): ReceiptTermsOf {
  const account = privateKeyToAccount(toHex(opts.ethSecret));
  if (opts.rpcUrl) {
    if (!opts.chainId || !opts.contracts) throw new Error('--chain-rpc needs --chain-id and the contracts\' addresses');
    return { chainId: BigInt(opts.chainId), pool: opts.contracts.pool, account };
  }
  const file = join(opts.stateDir, 'chain', 'deployment.json');
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Deployment) : undefined;
  const pool = known?.pool ?? getContractAddress({ from: privateKeyToAccount(DEV_DEPLOYER_KEY).address, nonce: 2n });
  return { chainId: BigInt(opts.chainId ?? 31337), pool, account };
}
