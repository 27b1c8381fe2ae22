// A torrent's data in an S3 bucket, behind the engine's Storage seam (the engine reads and writes
// verified pieces and knows nothing more). Pieces are staged in a local folder, one sparse file per
// torrent file; a file whose every piece is there is uploaded whole (multipart above one part) and
// its staged copy deleted. Reads come from the staged copy while there is one, else from the bucket
// by ranged GETs through the shared ReadCache. The manifest (manifest.ts) carries the state across
// restarts. Every failure is an S3StorageError with one clear sentence: the engine puts it on the
// torrent ("disk error: s3: …") and the rest of the node goes on.

import { mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadObjectCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import type { FileStat, Metainfo, Storage } from '@cascade/engine';
import { pieceLengthOf, pieceSegments } from '@cascade/engine/piece-map';
import { s3Error, S3StorageError } from './client.ts';
import { Manifest } from './manifest.ts';
import type { ReadCache } from './read-cache.ts';
import { formatS3Url, keyOf, type S3Location } from './s3-url.ts';

export interface S3StorageOptions {
  client: S3Client;
  location: S3Location;
  /** This torrent's own local folder for staged pieces and the manifest. */
  staging: string;
  cache: ReadCache;
  /** Bytes per multipart part (S3 wants at least 5 MiB but for the last). Default 8 MiB. */
  partSize?: number;
  /** Parts sent at once. Default 4. */
  partConcurrency?: number;
}

/** A staged file's handle stays open this long after its upload, for reads already under way. */
const LATE_CLOSE_MS = 10_000;

export class S3Storage implements Storage {
  readonly meta: Metainfo;
  readonly location: S3Location;
  readonly #o: S3StorageOptions;
  readonly #client: S3Client;
  #ready: Promise<Manifest> | undefined;
  /** Files with a staged copy in the staging folder. */
  #local = new Set<number>();
  /** Files found in the bucket (someone else's, or ours from before): rewriting one fetches it first. */
  #remote = new Set<number>();
  /** Files whose upload (from manifest `written`) was seen in the bucket since this storage opened. */
  #seen = new Set<number>();
  #handles = new Map<number, Promise<FileHandle>>();
  #uploading = new Map<number, Promise<void>>();
  #restaging = new Map<number, Promise<void>>();
  /** Diagnostics, tests and the bench: files uploaded, and the time spent uploading them. */
  uploads = 0;
  uploadMs = 0;

  constructor(meta: Metainfo, o: S3StorageOptions) {
    this.meta = meta;
    this.location = o.location;
    this.#o = o;
    this.#client = o.client;
  }

  keyOf(file: number): string {
    const m = this.meta;
    return keyOf(this.location, m.multiFile ? [m.name, ...m.files[file]!.path] : [m.name]);
  }

  #where(file: number): string {
    return `s3://${this.location.bucket}/${this.keyOf(file)}`;
  }

  #stagedPath(file: number): string {
    return join(this.#o.staging, String(file));
  }

  #manifest(): Promise<Manifest> {
    this.#ready ??= (async () => {
      const m = await Manifest.open(this.#o.staging, formatS3Url(this.location), this.meta.pieceCount);
      const names = await readdir(this.#o.staging).catch(() => [] as string[]);
      for (const n of names) if (/^\d+$/.test(n) && Number(n) < this.meta.files.length) this.#local.add(Number(n));
      return m;
    })();
    this.#ready.catch(() => (this.#ready = undefined));
    return this.#ready;
  }

  #handle(file: number): Promise<FileHandle> {
    let h = this.#handles.get(file);
    if (!h) {
      const p = this.#stagedPath(file);
      h = (async () => {
        try {
          return await open(p, 'r+');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          await mkdir(this.#o.staging, { recursive: true });
          return open(p, 'w+');
        }
      })();
      this.#handles.set(file, h);
      h.catch(() => this.#handles.get(file) === h && this.#handles.delete(file));
    }
    return h;
  }

  /** Whether every piece touching `file` has been written here. */
  #complete(m: Manifest, file: number): boolean {
    const f = this.meta.files[file]!;
    if (f.length === 0) return true;
    const first = Math.floor(f.offset / this.meta.pieceLength);
    const last = Math.floor((f.offset + f.length - 1) / this.meta.pieceLength);
    for (let p = first; p <= last; p++) if (!m.hasPiece(p)) return false;
    return true;
  }

  async writePiece(index: number, data: Uint8Array): Promise<void> {
    const m = await this.#manifest();
    const segs = pieceSegments(this.meta, index).filter((s) => !this.meta.files[s.file]!.pad);
    // A piece of a file already in the bucket (a recheck found it damaged): its object comes back
    // to the staging folder first, and goes up again whole once the piece is in.
    for (const s of segs) {
      if (!this.#local.has(s.file) && (this.#remote.has(s.file) || m.state.written[s.file])) await this.#restage(m, s.file);
    }
    try {
      await Promise.all(segs.map(async (s) => {
        const h = await this.#handle(s.file);
        this.#local.add(s.file);
        let done = 0;
        while (done < s.length) {
          const { bytesWritten } = await h.write(data, s.pieceOffset + done, s.length - done, s.fileOffset + done);
          done += bytesWritten;
        }
      }));
    } catch (err) {
      throw new S3StorageError(`s3: cannot stage piece ${index} in ${this.#o.staging}: ${(err as Error).message}`);
    }
    m.setPiece(index);
    await m.save();
    // The first write puts the torrent's empty files too (as the disk storage makes them).
    const files = new Set(segs.map((s) => s.file));
    if (index === 0 || files.size === 0) this.meta.files.forEach((f, i) => f.length === 0 && !f.pad && !f.symlink && !m.state.written[i] && files.add(i));
    for (const f of files) if (this.#complete(m, f) && !m.state.written[f]) await this.#upload(m, f);
  }

  /** Uploads a complete staged file (or carries on with its multipart upload), then drops the staged copy. */
  #upload(m: Manifest, file: number): Promise<void> {
    let u = this.#uploading.get(file);
    if (!u) {
      u = this.#uploadNow(m, file).finally(() => this.#uploading.delete(file));
      this.#uploading.set(file, u);
    }
    return u;
  }

  async #uploadNow(m: Manifest, file: number): Promise<void> {
    const f = this.meta.files[file]!;
    const Bucket = this.location.bucket, Key = this.keyOf(file);
    const partSize = this.#o.partSize ?? 8 * 1024 * 1024;
    let mtimeMs = Date.now();
    const started = Date.now();
    try {
      if (f.length <= partSize) {
        const body = f.length === 0 ? new Uint8Array(0) : await this.#readStaged(file, 0, f.length);
        if (f.length > 0) mtimeMs = Math.floor((await stat(this.#stagedPath(file))).mtimeMs);
        await this.#client.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentLength: body.length }));
      } else {
        mtimeMs = Math.floor((await stat(this.#stagedPath(file))).mtimeMs);
        await this.#multipart(m, file, partSize);
      }
    } catch (err) {
      throw s3Error(err, `uploading ${this.#where(file)} (its pieces stay staged in ${this.#o.staging})`, this.location);
    }
    this.uploads++;
    this.uploadMs += Date.now() - started;
    m.state.written[file] = { size: f.length, mtimeMs };
    delete m.state.uploads[file];
    this.#seen.add(file);
    this.#o.cache.drop(this.location, Key);
    await m.save();
    // Only now, with the object complete and recorded, does the staged copy go.
    this.#local.delete(file);
    const h = this.#handles.get(file);
    this.#handles.delete(file);
    if (h) setTimeout(() => void h.then((x) => x.close()).catch(() => {}), LATE_CLOSE_MS).unref();
    await unlink(this.#stagedPath(file)).catch(() => {});
  }

  async #multipart(m: Manifest, file: number, partSize: number): Promise<void> {
    const f = this.meta.files[file]!;
    const Bucket = this.location.bucket, Key = this.keyOf(file);
    const count = Math.ceil(f.length / partSize);
    let up: typeof m.state.uploads[string] | undefined = m.state.uploads[file];
    const done = new Map<number, string>();
    if (up) {
      // A restart: the store says which parts it has (the manifest may have missed the last ones).
      try {
        let marker: string | undefined;
        do {
          const r = await this.#client.send(new ListPartsCommand({ Bucket, Key, UploadId: up.uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }));
          for (const p of r.Parts ?? []) if (p.PartNumber && p.ETag && (p.Size === undefined || p.Size === Math.min(partSize, f.length - (p.PartNumber - 1) * partSize))) done.set(p.PartNumber, p.ETag);
          marker = r.IsTruncated ? String(r.NextPartNumberMarker) : undefined;
        } while (marker);
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'NoSuchUpload') up = undefined; // gone (aborted, expired): start again
        // A store without ListParts (s3rver): the parts the manifest recorded as sent.
        else if (name === 'MethodNotAllowed' || name === 'NotImplemented') for (const p of up.parts) done.set(p.PartNumber, p.ETag);
        else throw err;
      }
    }
    if (!up) {
      const r = await this.#client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      up = { uploadId: r.UploadId!, parts: [] };
      m.state.uploads[file] = up;
      await m.save();
    }
    const upload = up;
    const todo = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !done.has(n));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const n = todo[next++]!;
        const start = (n - 1) * partSize;
        const body = await this.#readStaged(file, start, Math.min(partSize, f.length - start));
        const r = await this.#client.send(new UploadPartCommand({ Bucket, Key, UploadId: upload.uploadId, PartNumber: n, Body: body, ContentLength: body.length }));
        done.set(n, r.ETag!);
        upload.parts = [...done].map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
        await m.save();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.partConcurrency ?? 4, todo.length) }, worker));
    const Parts = [...done].sort((a, b) => a[0] - b[0]).map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
    await this.#client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: upload.uploadId, MultipartUpload: { Parts } }));
  }

  async #readStaged(file: number, position: number, length: number): Promise<Uint8Array> {
    const h = await this.#handle(file);
    const out = Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await h.read(out, done, length - done, position + done);
      if (bytesRead === 0) throw new S3StorageError(`s3: staged file ${this.#stagedPath(file)} is shorter than expected`);
      done += bytesRead;
    }
    return out;
  }

  /** Brings a file's object back into the staging folder (a piece of it is to be written again). */
  #restage(m: Manifest, file: number): Promise<void> {
    let r = this.#restaging.get(file);
    if (!r) {
      r = (async () => {
        const h = await this.#handle(file);
        try {
          const got = await this.#client.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(file) }));
          const body = await got.Body!.transformToByteArray();
          await h.write(body, 0, body.length, 0);
        } catch (err) {
          if ((err as { name?: string }).name !== 'NoSuchKey') throw s3Error(err, `fetching ${this.#where(file)} to write it again`, this.location);
        }
        this.#local.add(file);
        this.#remote.delete(file);
        // Ours again only once uploaded again; until then its pieces count as staged.
        if (m.state.written[file]) {
          delete m.state.written[file];
          await m.save();
        }
      })().finally(() => this.#restaging.delete(file));
      this.#restaging.set(file, r);
    }
    return r;
  }

  async readPiece(index: number, into?: Uint8Array): Promise<Uint8Array> {
    await this.#manifest();
    const length = pieceLengthOf(this.meta, index);
    const out = into && into.length === length ? into : Buffer.allocUnsafeSlow(length);
    await Promise.all(pieceSegments(this.meta, index).map(async (s) => {
      const dest = out.subarray(s.pieceOffset, s.pieceOffset + s.length);
      const f = this.meta.files[s.file]!;
      if (f.pad) return void dest.fill(0);
      if (this.#local.has(s.file)) {
        const h = await this.#handle(s.file);
        let done = 0;
        while (done < s.length) {
          const { bytesRead } = await h.read(dest, done, s.length - done, s.fileOffset + done);
          if (bytesRead === 0) throw new S3StorageError(`s3: staged file ${this.#stagedPath(s.file)} is shorter than expected`);
          done += bytesRead;
        }
        return;
      }
      await this.#o.cache.read(this.#client, this.location, this.keyOf(s.file), f.length, s.fileOffset, dest);
    }));
    return out;
  }

  /**
   * Bytes [start, end] of a complete file, in pieces of at most one cache chunk, for the node's
   * /webseed route (a CDN's miss, a BEP 19 client): from the staged copy while there is one, else by
   * ranged GETs through the shared cache. Each chunk is asked only when the consumer wants the next,
   * so a slow reader holds one chunk, and a long file costs one GET per chunk not cached.
   */
  async *readRange(file: number, start: number, end: number): AsyncGenerator<Uint8Array> {
    await this.#manifest();
    const f = this.meta.files[file];
    if (!f || f.pad) throw new S3StorageError(`s3: no file ${file} in ${this.meta.name}`);
    const step = this.#o.cache.chunkSize;
    for (let at = start; at <= end;) {
      // Up to the next chunk boundary, so a cached chunk is read whole once, not twice.
      const n = Math.min(end + 1 - at, step - (at % step));
      if (this.#local.has(file)) {
        yield await this.#readStaged(file, at, n);
      } else {
        const out = Buffer.allocUnsafeSlow(n);
        await this.#o.cache.read(this.#client, this.location, this.keyOf(file), f.length, at, out);
        yield out;
      }
      at += n;
    }
  }

  /**
   * Staged files: their local size and mtime. Files in the bucket: the object's size (a HEAD, once
   * per opening for those this node wrote) and, for ours, the mtime recorded at upload, so resume
   * data stays valid across the move from staging to bucket. All files at once is a check (start,
   * recheck): the cache is dropped first, so a recheck verifies what is in the bucket now.
   */
  async fileStats(files?: readonly number[]): Promise<(FileStat | undefined)[]> {
    const m = await this.#manifest();
    if (!files) for (let i = 0; i < this.meta.files.length; i++) if (!this.#local.has(i)) this.#o.cache.drop(this.location, this.keyOf(i));
    if (!files) this.#seen.clear();
    const which = files ?? this.meta.files.map((_, i) => i);
    const out: (FileStat | undefined)[] = new Array(which.length).fill(undefined);
    let next = 0;
    const worker = async () => {
      while (next < which.length) {
        const k = next++;
        const i = which[k]!;
        const f = this.meta.files[i]!;
        if (f.pad || f.symlink) continue;
        if (this.#local.has(i)) {
          const st = await stat(this.#stagedPath(i)).catch(() => undefined);
          if (st) out[k] = { length: st.size, mtimeMs: Math.floor(st.mtimeMs) };
          else this.#local.delete(i);
          if (st) continue;
        }
        const ours = m.state.written[i];
        if (ours && this.#seen.has(i)) {
          out[k] = { length: ours.size, mtimeMs: ours.mtimeMs };
          continue;
        }
        const head = await this.#head(i);
        if (!head) continue;
        if (ours) this.#seen.add(i);
        else this.#remote.add(i);
        out[k] = { length: head.length, mtimeMs: ours?.mtimeMs ?? head.mtimeMs };
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, which.length) }, worker));
    // Complete files whose upload a stop or a failure interrupted go up now (in the background:
    // a check must not wait for gigabytes to move; their failure is the next write's or check's).
    if (!files) for (let i = 0; i < this.meta.files.length; i++) {
      if (this.#local.has(i) && !m.state.written[i] && this.meta.files[i]!.length > 0 && this.#complete(m, i)) void this.#upload(m, i).catch(() => {});
    }
    return out;
  }

  async #head(file: number): Promise<FileStat | undefined> {
    try {
      const r = await this.#client.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.keyOf(file) }));
      return { length: r.ContentLength ?? 0, mtimeMs: r.LastModified ? r.LastModified.getTime() : 0 };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      // A missing object is a file not there yet; a missing bucket, refused credentials or a
      // throttling store is the torrent's error.
      if (e.name === 'NotFound' || e.name === 'NoSuchKey') return undefined;
      if (e.$metadata?.httpStatusCode === 404) {
        throw new S3StorageError(`s3: bucket "${this.location.bucket}" does not exist (looking for ${this.#where(file)})`, 'NoSuchBucket');
      }
      throw s3Error(err, `looking for ${this.#where(file)}`, this.location);
    }
  }

  async close(): Promise<void> {
    // Uploads under way finish (a write awaits them); the handles go.
    const hs = [...this.#handles.values()];
    this.#handles = new Map();
    await Promise.all(hs.map((h) => h.then((x) => x.close(), () => {})));
  }

  /** Deletes what this node wrote (its objects, its unfinished uploads, the staging folder); never
   *  objects it found in the bucket. */
  async destroy(): Promise<void> {
    await Promise.allSettled([...this.#uploading.values()]);
    await this.close();
    const m = await this.#manifest().catch(() => undefined);
    const Bucket = this.location.bucket;
    const errors: unknown[] = [];
    if (m) {
      for (const [file, up] of Object.entries(m.state.uploads)) {
        await this.#client.send(new AbortMultipartUploadCommand({ Bucket, Key: this.keyOf(Number(file)), UploadId: up.uploadId })).catch(() => {});
      }
      for (const file of Object.keys(m.state.written)) {
        const Key = this.keyOf(Number(file));
        try {
          await this.#client.send(new DeleteObjectCommand({ Bucket, Key }));
          this.#o.cache.drop(this.location, Key);
        } catch (err) {
          errors.push(s3Error(err, `deleting ${this.#where(Number(file))}`, this.location));
        }
      }
    }
    if (errors.length > 0) throw errors[0];
    await rm(this.#o.staging, { recursive: true, force: true });
  }
}
