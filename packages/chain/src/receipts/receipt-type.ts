// The Receipt's fields (docs/receipts.md): a type of its own so the digest (receipt-digest.ts) and
// the signing and checking (receipts.ts) both name it without importing one another.
import type { Address, Hex } from 'viem';

export interface Receipt {
  chainId: bigint;
  pool: Address;
  /** The torrent's v1 infohash, 20 bytes as 0x-hex. */
  infoHash: Hex;
  seeder: Address;
  downloader: Address;
  cumulativeBytes: bigint;
  /** Seconds since the epoch after which the pool refuses it. */
  expiry: bigint;
}
