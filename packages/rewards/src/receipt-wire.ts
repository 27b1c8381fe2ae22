// A seeding receipt as the Cascade wire extension carries it (docs/receipts.md): its numbers as
// decimal strings (they pass 2^53), its addresses and signature as 0x-hex; read with every field
// checked before anything is judged.
import type { Receipt } from '@cascade/chain';

/** The receipt in a wire message, or why it is not one. */
export function receiptOf(m: Record<string, unknown>): { receipt: Receipt; signature: `0x${string}` } | string {
  if (m.v !== 1) return `receipt version ${String(m.v)}`;
  const addr = /^0x[0-9a-fA-F]{40}$/;
  const uint = /^[0-9]{1,78}$/;
  const { chainId, pool, infoHash, seeder, downloader, cumulativeBytes, expiry, signature } = m;
  if (typeof chainId !== 'string' || !uint.test(chainId)) return 'chainId is not a decimal string';
  if (typeof pool !== 'string' || !addr.test(pool)) return 'pool is not an address';
  if (typeof infoHash !== 'string' || !addr.test(infoHash)) return 'infoHash is not 20 bytes of 0x-hex';
  if (typeof seeder !== 'string' || !addr.test(seeder)) return 'seeder is not an address';
  if (typeof downloader !== 'string' || !addr.test(downloader)) return 'downloader is not an address';
  if (typeof cumulativeBytes !== 'string' || !uint.test(cumulativeBytes)) return 'cumulativeBytes is not a decimal string';
  if (typeof expiry !== 'string' || !uint.test(expiry)) return 'expiry is not a decimal string';
  if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(signature)) return 'signature is not 65 bytes of 0x-hex';
  return {
    receipt: {
      chainId: BigInt(chainId),
      pool: pool as `0x${string}`,
      infoHash: infoHash.toLowerCase() as `0x${string}`,
      seeder: seeder as `0x${string}`,
      downloader: downloader as `0x${string}`,
      cumulativeBytes: BigInt(cumulativeBytes),
      expiry: BigInt(expiry),
    },
    signature: signature as `0x${string}`,
  };
}

/** A receipt's fields as the wire carries them: numbers as decimal strings (they pass 2^53). */
export function wireOf(r: Receipt): Record<string, string> {
  return {
    chainId: r.chainId.toString(),
    pool: r.pool,
    infoHash: r.infoHash,
    seeder: r.seeder,
    downloader: r.downloader,
    cumulativeBytes: r.cumulativeBytes.toString(),
    expiry: r.expiry.toString(),
  };
}
