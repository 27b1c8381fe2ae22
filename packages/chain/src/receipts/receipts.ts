// Seeding receipts (docs/receipts.md): EIP-712 messages a downloader signs for a seeder, stating
// the cumulative bytes received from it in pieces that passed the hash. The RewardPool contract
// checks the same fields; checkReceipt() checks them off-chain first (a node refuses a forged or
// stale receipt before it spends gas on it).
// No viem at run time: a node loads this module at its first Cascade peer, during a transfer, and
// viem costs 0.3-0.6 CPU-s to load (issue 40). The digest is receipt-digest.ts's, the signature
// the identity's secp256k1 (the same bytes viem makes: tested).
import type { Address, Hex, LocalAccount } from 'viem';
import { recoverDigestSigner, signDigest } from '@cascade/identity';
import { receiptDigest } from './receipt-digest.ts';
import type { Receipt } from './receipt-type.ts';

export type { Receipt };

export const RECEIPT_TYPES = {
  Receipt: [
    { name: 'chainId', type: 'uint256' },
    { name: 'pool', type: 'address' },
    { name: 'infoHash', type: 'bytes20' },
    { name: 'seeder', type: 'address' },
    { name: 'downloader', type: 'address' },
    { name: 'cumulativeBytes', type: 'uint256' },
    { name: 'expiry', type: 'uint256' },
  ],
} as const;

export function receiptDomain(chainId: bigint, pool: Address) {
  return { name: 'Cascade RewardPool', version: '1', chainId, verifyingContract: pool } as const;
}

/** The downloader's signature with its secp256k1 secret (what the node does). */
export function signReceiptWithSecret(secret: Uint8Array, r: Receipt): Hex {
  return signDigest(secret, receiptDigest(r));
}

export function signReceipt(downloader: LocalAccount, r: Receipt): Promise<Hex> {
  if (r.downloader.toLowerCase() !== downloader.address.toLowerCase()) throw new Error('a receipt is signed by its downloader');
  return downloader.signTypedData({ domain: receiptDomain(r.chainId, r.pool), types: RECEIPT_TYPES, primaryType: 'Receipt', message: r });
}

/** Why a receipt would be refused (undefined: it is good), checked as the pool does. */
export async function checkReceipt(r: Receipt, signature: Hex, expect: { chainId: bigint; pool: Address; now?: number }): Promise<string | undefined> {
  if (r.chainId !== expect.chainId) return `receipt for chain ${r.chainId}, not ${expect.chainId}`;
  if (r.pool.toLowerCase() !== expect.pool.toLowerCase()) return `receipt for another pool (${r.pool})`;
  if (BigInt(Math.floor((expect.now ?? Date.now()) / 1000)) > r.expiry) return 'receipt expired';
  if (r.seeder.toLowerCase() === r.downloader.toLowerCase()) return 'seeder and downloader are the same account';
  if (!/^0x[0-9a-fA-F]{40}$/.test(r.infoHash)) return 'infohash is not 20 bytes';
  let signer: Address | undefined;
  try {
    signer = recoverDigestSigner(receiptDigest(r), signature);
  } catch {
    signer = undefined;
  }
  if (!signer) return 'malformed signature';
  if (signer.toLowerCase() !== r.downloader.toLowerCase()) return `signed by ${signer}, not by the downloader`;
  return undefined;
}

export const REGISTER_TYPES = {
  Register: [
    { name: 'infoHash', type: 'bytes20' },
    { name: 'v2Root', type: 'bytes32' },
    { name: 'metadataCid', type: 'string' },
    { name: 'contentId', type: 'string' },
    { name: 'owner', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

export interface Registration {
  infoHash: Hex;
  v2Root: Hex;
  metadataCid: string;
  contentId: string;
  owner: Address;
  nonce: bigint;
  deadline: bigint;
}

export function registryDomain(chainId: bigint, registry: Address) {
  return { name: 'Cascade ContentRegistry', version: '1', chainId, verifyingContract: registry } as const;
}

/** The owner's signature on a registration that any account may then submit (registerFor). */
export function signRegistration(owner: LocalAccount, chainId: bigint, registry: Address, r: Registration): Promise<Hex> {
  return owner.signTypedData({ domain: registryDomain(chainId, registry), types: REGISTER_TYPES, primaryType: 'Register', message: r });
}
