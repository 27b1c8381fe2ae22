// A node's S3 storage (`cascade serve --storage s3://bucket/prefix --s3-endpoint URL`): one client
// and one read cache for the process, the node's default location, and which torrent keeps its data
// where (a small JSON file in the state dir, read once at start: the engine asks synchronously,
// torrent by torrent, when each one's metadata is known). A torrent not listed is on the disk, as
// every torrent was before: turning S3 on never moves what is already there.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Metainfo, Storage } from '@cascade/engine';
import { checkBucket, makeS3Client, type S3ClientOptions } from './client.ts';
import { ReadCache, type ReadCacheOptions } from './read-cache.ts';
import { S3Storage } from './s3-storage.ts';
import { formatS3Url, isS3Url, parseS3Url, S3UrlError, type S3Location } from './s3-url.ts';

/** What the torrent's detail shows of its storage (never credentials). */
export interface StorageWhere {
  kind: 's3';
  /** s3://bucket/prefix */
  url: string;
  bucket: string;
  prefix: string;
  /** The endpoint's host[:port], or 'AWS S3' / s3.<region>.amazonaws.com without one. */
  endpoint: string;
}

export interface S3BackendOptions extends S3ClientOptions {
  /** Where the torrent list lives (the node's state dir). */
  stateDir: string;
  /** New torrents' default location (serve's --storage); undefined: the disk unless an add says s3://. */
  defaultUrl?: string | undefined;
  cache?: ReadCacheOptions;
  partSize?: number;
  /** A client made elsewhere (tests); else one from the options. */
  client?: S3Client;
}

/** 'disk' (or 'file') asks for the download dir explicitly, even when the node's default is a bucket. */
const DISK = new Set(['disk', 'file', 'local']);

export class S3Backend {
  readonly client: S3Client;
  readonly cache: ReadCache;
  readonly defaultLocation: S3Location | undefined;
  readonly #o: S3BackendOptions;
  readonly #file: string;
  #torrents = new Map<string, string>();
  /** Storages made, by infohash (tests and diagnostics read their counters). */
  readonly opened = new Map<string, S3Storage>();

  private constructor(o: S3BackendOptions, torrents: Map<string, string>) {
    this.#o = o;
    this.#file = join(o.stateDir, 'storage-s3.json');
    this.#torrents = torrents;
    this.client = o.client ?? makeS3Client(o);
    this.cache = new ReadCache(o.cache);
    this.defaultLocation = o.defaultUrl ? parseS3Url(o.defaultUrl) : undefined;
  }

  /** Rejects with an S3UrlError on a malformed default URL, before anything starts. */
  static async open(o: S3BackendOptions): Promise<S3Backend> {
    if (o.defaultUrl) parseS3Url(o.defaultUrl);
    let torrents = new Map<string, string>();
    try {
      torrents = new Map(Object.entries(JSON.parse(await readFile(join(o.stateDir, 'storage-s3.json'), 'utf8')) as Record<string, string>));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${join(o.stateDir, 'storage-s3.json')}: ${(err as Error).message}`);
    }
    return new S3Backend(o, torrents);
  }

  /** The s3:// location a torrent keeps its data in, or undefined when it is on the disk. */
  locationOf(infoHash: string): string | undefined {
    return this.#torrents.get(infoHash);
  }

  /**
   * Where a torrent about to be added keeps its data: `storage` as the add gave it (s3://…, 'disk',
   * or undefined for the node's default). A bucket is checked first (it exists, the credentials
   * reach it), so a bad one refuses the add with a clear sentence instead of failing later.
   * A torrent already listed keeps its place.
   */
  async assign(infoHash: string, storage: string | undefined): Promise<string | undefined> {
    const known = this.#torrents.get(infoHash);
    if (known) return known;
    const wanted = storage?.trim();
    if (wanted && DISK.has(wanted.toLowerCase())) return undefined;
    if (wanted && !isS3Url(wanted)) throw new S3UrlError(`storage ${JSON.stringify(wanted)} is not one this node knows: give s3://bucket/prefix or "disk"`);
    const loc = wanted ? parseS3Url(wanted) : this.defaultLocation;
    if (!loc) return undefined;
    await checkBucket(this.client, loc);
    const url = formatS3Url(loc);
    this.#torrents.set(infoHash, url);
    await this.#save();
    return url;
  }

  /**
   * Where a torrent's data lives, for its detail: the s3:// location and the endpoint's host (no
   * credentials: the URL's user and password, if someone wrote them in the endpoint, are left out).
   */
  where(infoHash: string): StorageWhere | undefined {
    const url = this.#torrents.get(infoHash);
    if (!url) return undefined;
    const loc = parseS3Url(url);
    let endpoint = 'AWS S3';
    if (this.#o.endpoint) {
      try {
        endpoint = new URL(this.#o.endpoint).host;
      } catch {
        endpoint = '(custom endpoint)';
      }
    } else if (this.#o.region ?? process.env.AWS_REGION) {
      endpoint = `s3.${this.#o.region ?? process.env.AWS_REGION}.amazonaws.com`;
    }
    return { kind: 's3', url, bucket: loc.bucket, prefix: loc.prefix, endpoint };
  }

  /** Bytes [start, end] of a torrent's complete file in the bucket (the /webseed route), or
   *  undefined when the torrent is not in a bucket or its storage is not open in this process. */
  readFile(infoHash: string, file: number, start: number, end: number): AsyncIterable<Uint8Array> | undefined {
    if (!this.#torrents.has(infoHash)) return undefined;
    return this.opened.get(infoHash)?.readRange(file, start, end);
  }

  async forget(infoHash: string): Promise<void> {
    this.opened.delete(infoHash);
    if (this.#torrents.delete(infoHash)) await this.#save();
  }

  /** SessionOptions.storageFor's part: the torrent's S3 storage, or undefined for the disk. */
  storageFor(meta: Metainfo, savePath: string): Storage | undefined {
    const url = this.#torrents.get(meta.infoHashHex);
    if (!url) return undefined;
    const s = new S3Storage(meta, {
      client: this.client,
      location: parseS3Url(url),
      staging: join(savePath, '.cascade-s3', meta.infoHashHex),
      cache: this.cache,
      ...(this.#o.partSize ? { partSize: this.#o.partSize } : {}),
    });
    this.opened.set(meta.infoHashHex, s);
    return s;
  }

  async #save(): Promise<void> {
    await mkdir(this.#o.stateDir, { recursive: true });
    const tmp = `${this.#file}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(this.#torrents), null, 1));
    await rename(tmp, this.#file);
  }

  close(): void {
    this.client.destroy();
  }
}
