// Byte-for-byte comparison for tests that check what a download wrote. assert.deepEqual on two
// Buffers of a few hundred KB that differ renders a diff of every byte (node:internal/assert's
// createErrDiff): on 1.2 MB with one 16 KiB block of zeros it ran for minutes and grew to gigabytes,
// so a test whose download went wrong was killed as "hung" instead of failing with where the bytes
// differ (packages/engine/test/mse.test.ts, 30 Nov). This compares with Buffer.equals and says
// where, in 16 KiB blocks (BitTorrent's unit of transfer: a lost or corrupted block shows as one).
import { AssertionError } from 'node:assert';

const BLOCK = 16 * 1024;
const SHOWN = 8;

/** Throws an AssertionError naming the lengths and the differing 16 KiB blocks unless a and b hold the same bytes. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  throw new AssertionError({ message: `${message ? `${message}: ` : ''}${describeDifference(a, b)}`, actual: `${a.length} bytes`, expected: `${b.length} bytes`, operator: 'assertSameBytes' });
}

/** Where two byte strings differ: their lengths, the first differing offset and the blocks that differ. */
export function describeDifference(a: Buffer, b: Buffer): string {
  const common = Math.min(a.length, b.length);
  let first = -1;
  const blocks: string[] = [];
  let differing = 0;
  for (let off = 0; off < common; off += BLOCK) {
    const end = Math.min(common, off + BLOCK);
    if (a.subarray(off, end).equals(b.subarray(off, end))) continue;
    differing++;
    if (first < 0) for (first = off; a[first] === b[first]; first++);
    if (blocks.length < SHOWN) {
      const zeros = a.subarray(off, end).every((x) => x === 0) ? ' (all zeros)' : '';
      blocks.push(`${off}${zeros}`);
    }
  }
  const parts = [`${a.length} bytes, expected ${b.length}`];
  if (first >= 0) {
    parts.push(`first difference at byte ${first} (got ${a.subarray(first, first + 8).toString('hex')}, expected ${b.subarray(first, first + 8).toString('hex')})`);
    parts.push(`${differing} of ${Math.ceil(common / BLOCK)} 16 KiB blocks differ, at ${blocks.join(', ')}${differing > SHOWN ? ', …' : ''}`);
  } else parts.push(`the first ${common} bytes agree`);
  return parts.join('; ');
}
