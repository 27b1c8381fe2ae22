// What a listing's terms look like to a person and to the contract: prices in a token's units,
// royalties in basis points, delivery times in seconds, and the key commitment a listing carries.
import { concat, keccak256, parseUnits, formatUnits, toHex, type Address, type Hex } from 'viem';
import { NodeError } from '@cascade/node/basics';

/** The token address that means ether (native currency) on the market contract. */
export const ETHER: Address = '0x0000000000000000000000000000000000000000';
/** The contract's limits (CascadeMarket.sol). */
export const MAX_ROYALTY_BPS = 5000;
export const MAX_DELIVERY_SECONDS = 30 * 86_400;
export const DEFAULT_DELIVERY_SECONDS = 3600;
/** X25519 public keys and HPKE envelopes of a 32-byte content key (private shares' format). */
export const BUYER_KEY_BYTES = 32;
export const ENVELOPE_BYTES = 80;

/** A term written wrong (a price, a royalty, a deadline, an id): the request's fault, exit 2 / HTTP 400. */
export class TermsError extends NodeError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/**
 * The commitment a listing publishes: keccak256("cascade-market/v1/key" || infohash || key). It names
 * the one key that opens the share without revealing it (the key is 32 random bytes); a buyer checks
 * the key its envelope opens to against it.
 */
export function keyCommitment(infoHash: string, key: Uint8Array): Hex {
  if (!/^[0-9a-f]{40}$/.test(infoHash)) throw new TermsError('an infohash is 40 hex digits');
  return keccak256(concat([toHex('cascade-market/v1/key'), `0x${infoHash}`, toHex(key)]));
}

/** "5", "0.25" → base units of a token with `decimals`; refuses 0, negatives and junk. */
export function parsePrice(text: string, decimals: number): bigint {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new TermsError(`--price ${text}: a positive number of tokens (5, 0.25)`);
  let units: bigint;
  try {
    units = parseUnits(text.trim(), decimals);
  } catch {
    throw new TermsError(`--price ${text}: not a number of tokens`);
  }
  if (units <= 0n) throw new TermsError(`--price ${text}: a price must be more than 0`);
  return units;
}

export function showPrice(units: bigint, decimals: number, symbol: string): string {
  return `${formatUnits(units, decimals)} ${symbol}`;
}

/** "5%", "2.5%", "250bps" → basis points (0 to MAX_ROYALTY_BPS). */
export function parseRoyalty(text: string): number {
  const t = text.trim().toLowerCase();
  const m = /^(\d+(?:\.\d{1,2})?)\s*(%|bps)?$/.exec(t);
  if (!m) throw new TermsError(`--royalty ${text}: a percentage (5%) or basis points (250bps)`);
  const bps = m[2] === 'bps' ? Number(m[1]) : Math.round(Number(m[1]) * 100);
  if (!Number.isInteger(bps) || bps < 0 || bps > MAX_ROYALTY_BPS) throw new TermsError(`--royalty ${text}: between 0 and ${MAX_ROYALTY_BPS / 100}%`);
  return bps;
}

/** "90s", "10m", "1h", "2d" (or plain seconds) → seconds, 1 s to 30 days. */
export function parseDeadline(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim().toLowerCase());
  if (!m) throw new TermsError(`--deadline ${text}: a duration (90s, 10m, 1h, 2d)`);
  const secs = Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86_400 } as const)[(m[2] ?? 's') as 's'];
  if (secs < 1 || secs > MAX_DELIVERY_SECONDS) throw new TermsError(`--deadline ${text}: between 1 second and 30 days`);
  return secs;
}

/** A listing's details, in its Listed event only (not in storage): what a buyer needs to show the
 *  listing and, once the key arrives, to open and fetch the share. */
export interface ListingDetails {
  name: string;
  size: number;
  magnet: string;
  /** The share's salt (base64url): the envelope's HPKE info binds it. */
  salt: string;
  /** The seller node's did. */
  did: string;
}

export function parseDetails(text: string): Partial<ListingDetails> {
  try {
    const d = JSON.parse(text) as Record<string, unknown>;
    const out: Partial<ListingDetails> = {};
    if (typeof d.name === 'string') out.name = d.name.slice(0, 256);
    if (typeof d.size === 'number' && Number.isSafeInteger(d.size) && d.size >= 0) out.size = d.size;
    if (typeof d.magnet === 'string' && d.magnet.startsWith('magnet:?')) out.magnet = d.magnet.slice(0, 4096);
    if (typeof d.salt === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(d.salt)) out.salt = d.salt;
    if (typeof d.did === 'string' && d.did.startsWith('did:')) out.did = d.did.slice(0, 256);
    return out;
  } catch {
    return {};
  }
}
