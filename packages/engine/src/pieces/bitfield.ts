// BEP 3 bit order: piece 0 is the high bit of byte 0.
import { lastingBytes } from '../encoding/lasting-bytes.ts';

export class Bitfield {
  readonly bytes: Uint8Array;
  readonly length: number;
  private setCount = 0;

  /** `lasting`: a torrent's own bitfield, kept as long as the torrent (its bytes from a shared
   *  chunk when small: lasting-bytes.ts); a peer's is not. */
  constructor(length: number, bytes?: Uint8Array, lasting = false) {
    this.length = length;
    this.bytes = lasting ? lastingBytes(Math.ceil(length / 8)) : new Uint8Array(Math.ceil(length / 8));
    if (bytes) {
      this.bytes.set(bytes.subarray(0, this.bytes.length));
      // Spare bits past `length` must be ignored, never counted.
      const spare = this.bytes.length * 8 - length;
      if (spare > 0 && this.bytes.length > 0) this.bytes[this.bytes.length - 1]! &= (0xff << spare) & 0xff;
      for (const b of this.bytes) this.setCount += POPCOUNT[b]!;
    }
  }

  get(i: number): boolean {
    return (this.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  }

  set(i: number, value = true): void {
    const mask = 0x80 >> (i & 7);
    const had = (this.bytes[i >> 3]! & mask) !== 0;
    if (value && !had) {
      this.bytes[i >> 3]! |= mask;
      this.setCount++;
    } else if (!value && had) {
      this.bytes[i >> 3]! &= ~mask;
      this.setCount--;
    }
  }

  setAll(): void {
    for (let i = 0; i < this.length; i++) this.set(i);
  }

  get count(): number {
    return this.setCount;
  }

  get complete(): boolean {
    return this.setCount === this.length;
  }
}

const POPCOUNT = new Uint8Array(256);
for (let i = 0; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;
