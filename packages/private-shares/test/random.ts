/** n random bytes (getRandomValues gives at most 64 KiB a call). */
export function random(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) globalThis.crypto.getRandomValues(b.subarray(off, Math.min(n, off + 65536)));
  return b;
}
