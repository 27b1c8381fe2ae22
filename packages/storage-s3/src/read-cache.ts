// Seeding from a bucket: pieces are read by ranged GETs of fixed, aligned chunks of an object, kept
// in a bounded least-recently-used cache shared by every torrent of the process. A peer asks a
// piece in 16 KiB blocks and the engine reads the whole piece at once; neighbouring pieces come
// out of the same chunk, so a sequential reader costs one GET per chunk, not one per piece.

import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { s3Error } from './client.ts';
import type { S3Location } from './s3-url.ts';

export interface ReadCacheOptions {
  /** Bytes of one ranged GET. Default 4 MiB. */
  chunkSize?: number;
  /** Most bytes held (chunks being fetched count). Default 64 MiB. */
  maxBytes?: number;
}

export class ReadCache {
  readonly chunkSize: number;
  readonly maxBytes: number;
  /** Insertion order is recency: a hit moves its entry to the end. */
  readonly #chunks = new Map<string, { bytes: number; data: Promise<Uint8Array> }>();
  #held = 0;
  /** Counters for tests, the bench and diagnostics. */
  gets = 0;
  hits = 0;
  bytesFetched = 0;

  constructor(o: ReadCacheOptions = {}) {
    this.chunkSize = o.chunkSize ?? 4 * 1024 * 1024;
    this.maxBytes = Math.max(o.maxBytes ?? 64 * 1024 * 1024, this.chunkSize);
  }

  get heldBytes(): number {
    return this.#held;
  }

  /** Copies object bytes [offset, offset + out.length) of an object `size` bytes long into `out`. */
  async read(client: S3Client, loc: S3Location, key: string, size: number, offset: number, out: Uint8Array): Promise<void> {
    let done = 0;
    while (done < out.length) {
      const at = offset + done;
      const chunk = Math.floor(at / this.chunkSize);
      const data = await this.chunk(client, loc, key, size, chunk);
      const from = at - chunk * this.chunkSize;
      const n = Math.min(out.length - done, data.length - from);
      if (n <= 0) throw s3Error({ message: `object is shorter than expected (${size} bytes)` }, `reading s3://${loc.bucket}/${key}`, loc);
      out.set(data.subarray(from, from + n), done);
      done += n;
    }
  }

  /** Forgets an object's chunks (it was just written or deleted). */
  drop(loc: S3Location, key: string): void {
    const head = `${loc.bucket}\0${key}\0`;
    for (const [k, v] of this.#chunks) {
      if (!k.startsWith(head)) continue;
      this.#chunks.delete(k);
      this.#held -= v.bytes;
    }
  }


  private chunk(client: S3Client, loc: S3Location, key: string, size: number, chunk: number): Promise<Uint8Array> {
    const k = `${loc.bucket}\0${key}\0${chunk}`;
    const hit = this.#chunks.get(k);
    if (hit) {
      this.hits++;
      this.#chunks.delete(k);
      this.#chunks.set(k, hit);
      return hit.data;
    }
    const start = chunk * this.chunkSize;
    const end = Math.min(size, start + this.chunkSize) - 1;
    const bytes = end - start + 1;
    this.gets++;
    const data = (async () => {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: key, Range: `bytes=${start}-${end}` }));
        const body = await r.Body!.transformToByteArray();
        this.bytesFetched += body.length;
        return body;
      } catch (err) {
        throw s3Error(err, `reading s3://${loc.bucket}/${key}`, loc);
      }
    })();
    const entry = { bytes, data };
    this.#chunks.set(k, entry);
    this.#held += bytes;
    // A failed GET is not kept: the next read tries again.
    data.catch(() => {
      if (this.#chunks.get(k) === entry) {
        this.#chunks.delete(k);
        this.#held -= bytes;
      }
    });
    this.evict(k);
    return data;
  }

  private evict(keep: string): void {
    for (const [k, v] of this.#chunks) {
      if (this.#held <= this.maxBytes) break;
      if (k === keep) continue;
      this.#chunks.delete(k);
      this.#held -= v.bytes;
    }
  }
}
