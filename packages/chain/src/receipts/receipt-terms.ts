// What a node's receipts name — chain id and reward pool — known without starting or asking its
// chain (issue 40): receipts are signed and checked while the embedded chain is not running yet, so
// it can start after a transfer instead of during it. No viem at run time (0.3-0.6 CPU-s to load).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keccak_256 } from '@noble/hashes/sha3.js';
import type { Address } from 'viem';
import type { Deployment } from '../contracts/deploy.ts';
import type { ExternalSignerOptions } from '../node-chain/signer.ts';

/** anvil's first dev account (its well-known test mnemonic): deploys and funds on the embedded chain only. */
export const DEV_DEPLOYER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
/** Its address (a test checks it is the key's). */
export const DEV_DEPLOYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';

/** The address of the contract `from` creates with its transaction of nonce `nonce` (< 128):
 *  keccak256(rlp([from, nonce]))[12:]. */
export function createdAddress(from: string, nonce: number): Address {
  if (!Number.isInteger(nonce) || nonce < 0 || nonce > 127) throw new Error('nonce out of range');
  const rlp = new Uint8Array(23);
  rlp[0] = 0xc0 + 22; // a list of 22 bytes: the address string (0x94 + 20) and the nonce byte
  rlp[1] = 0x80 + 20;
  rlp.set(Buffer.from(from.slice(2), 'hex'), 2);
  rlp[22] = nonce === 0 ? 0x80 : nonce;
  return `0x${Buffer.from(keccak_256(rlp).subarray(12)).toString('hex')}` as Address;
}

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

/** What a receipt names besides the torrent and the two accounts. */
export interface ReceiptTermsOf {
  chainId: bigint;
  pool: Address;
}

/**
 * The chain id and pool a node's receipts name: an external chain's as configured; the embedded
 * chain's from <stateDir>/chain/deployment.json, or, before its first start, where deployContracts
 * puts the pool on a fresh anvil (the dev deployer's third contract: registry, token, pool).
 * NodeChain.start() deploys exactly so (checked by a test).
 */
export function receiptTermsOf(opts: Pick<NodeChainOptions, 'stateDir' | 'rpcUrl' | 'chainId' | 'contracts'>): ReceiptTermsOf {
  if (opts.rpcUrl) {
    if (!opts.chainId || !opts.contracts) throw new Error('--chain-rpc needs --chain-id and the contracts\' addresses');
    return { chainId: BigInt(opts.chainId), pool: opts.contracts.pool };
  }
  const file = join(opts.stateDir, 'chain', 'deployment.json');
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Deployment) : undefined;
  return { chainId: BigInt(opts.chainId ?? 31337), pool: known?.pool ?? createdAddress(DEV_DEPLOYER, 2) };
}
