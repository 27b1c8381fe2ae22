// The EIP-712 digest of a Receipt (docs/receipts.md), computed with keccak alone: what
// viem's hashTypedData gives for RECEIPT_TYPES and receiptDomain (a test checks it does), without
// loading viem — a node signs and checks receipts in the middle of transfers (issue 40).
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concat } from '@cascade/identity';
import type { Receipt } from './receipt-type.ts';

const enc = new TextEncoder();
const DOMAIN_TYPE = keccak_256(enc.encode('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'));
const RECEIPT_TYPE = keccak_256(enc.encode('Receipt(uint256 chainId,address pool,bytes20 infoHash,address seeder,address downloader,uint256 cumulativeBytes,uint256 expiry)'));
const NAME = keccak_256(enc.encode('Cascade RewardPool'));
const VERSION = keccak_256(enc.encode('1'));

/** A uint256 as 32 big-endian bytes (refused past 2^256 - 1 or below 0). */
function word(n: bigint): Uint8Array {
  if (n < 0n || n >= 1n << 256n) throw new Error(`${n} is not a uint256`);
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0 && n > 0n; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

function hexBytes(h: string, length: number, what: string): Uint8Array {
  if (!new RegExp(`^0x[0-9a-fA-F]{${length * 2}}$`).test(h)) throw new Error(`${what} is not ${length} bytes of 0x-hex`);
  return Uint8Array.from(Buffer.from(h.slice(2), 'hex'));
}

/** An address in a word: right-aligned. */
function address(h: string, what: string): Uint8Array {
  const out = new Uint8Array(32);
  out.set(hexBytes(h, 20, what), 12);
  return out;
}

/** bytes20 in a word: left-aligned (fixed-size bytes are padded on the right). */
function bytes20(h: string, what: string): Uint8Array {
  const out = new Uint8Array(32);
  out.set(hexBytes(h, 20, what), 0);
  return out;
}

/** keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(receipt)): what the downloader signs. */
export function receiptDigest(r: Receipt): Uint8Array {
  const domain = keccak_256(concat(DOMAIN_TYPE, NAME, VERSION, word(r.chainId), address(r.pool, 'pool')));
  const struct = keccak_256(concat(
    RECEIPT_TYPE, word(r.chainId), address(r.pool, 'pool'), bytes20(r.infoHash, 'infoHash'), address(r.seeder, 'seeder'),
    address(r.downloader, 'downloader'), word(r.cumulativeBytes), word(r.expiry),
  ));
  return keccak_256(concat(Uint8Array.of(0x19, 0x01), domain, struct));
}
