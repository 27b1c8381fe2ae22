// RC4 in plain JS for Message Stream Encryption. OpenSSL 3 moved RC4 to its legacy provider, so
// node:crypto on Node 24 has no 'rc4' cipher; MSE needs nothing but the raw keystream anyway.

export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const t = s[k]!;
      j = (j + t + key[k % key.length]!) & 255;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  /** Writes `src` XOR keystream to `dst` (which may be `src` itself) and advances the stream. */
  process(src: Uint8Array, dst: Uint8Array = src): Uint8Array {
    // Locals, not fields, inside the loop: V8 keeps them in registers.
    const s = this.s;
    const n = src.length;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 255;
      const a = s[i]!;
      j = (j + a) & 255;
      const b = s[j]!;
      s[i] = b;
      s[j] = a;
      dst[k] = src[k]! ^ s[(a + b) & 255]!;
    }
    this.i = i;
    this.j = j;
    return dst;
  }

  /** Advances the keystream by `n` bytes (MSE drops the first 1024, whose bias leaks the key). */
  discard(n: number): void {
    this.process(new Uint8Array(n));
  }
}
