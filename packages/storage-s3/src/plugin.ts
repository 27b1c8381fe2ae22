// The node's storage plug-in (@cascade/node's StoragePlugin, matched by shape): what `cascade serve`
// and `cascade seed` hand startNode. The S3 client (the AWS SDK, some 10 MB of modules) is loaded
// only once a bucket is in play: a default --storage, torrents already kept in one, or the first add
// that names one. A node on its disk alone pays nothing for it.

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTorrent, parseTorrentId, type Metainfo, type Storage } from '@cascade/engine';
import type { S3Backend, S3BackendOptions, StorageWhere } from './backend.ts';
import { isS3Url, parseS3Url, S3UrlError } from './s3-url.ts';

export type S3PluginOptions = Omit<S3BackendOptions, 'client'>;

const DISK = /^(disk|file|local)$/i;

export { S3UrlError };

export class S3StoragePlugin {
  readonly #o: S3PluginOptions;
  #backend: S3Backend | undefined;
  #loading: Promise<S3Backend> | undefined;

  private constructor(o: S3PluginOptions) {
    this.#o = o;
  }

  /** Rejects with an S3UrlError when the default location is malformed, before the node starts. */
  static async open(o: S3PluginOptions): Promise<S3StoragePlugin> {
    if (o.defaultUrl !== undefined) parseS3Url(o.defaultUrl);
    const p = new S3StoragePlugin(o);
    const listed = await access(join(o.stateDir, 'storage-s3.json')).then(() => true, () => false);
    if (listed || o.defaultUrl) await p.backend();
    return p;
  }

  /** The backend, loaded on first use (tests read its counters). */
  backend(): Promise<S3Backend> {
    this.#loading ??= import('./backend.ts').then(async ({ S3Backend }) => (this.#backend = await S3Backend.open(this.#o)));
    this.#loading.catch(() => (this.#loading = undefined));
    return this.#loading;
  }

  async assign(source: Uint8Array | string, storage: string | undefined): Promise<string | undefined> {
    const wanted = storage?.trim();
    if (wanted !== undefined && !DISK.test(wanted) && !isS3Url(wanted)) {
      throw new S3UrlError(`${JSON.stringify(wanted)} is not a storage this node knows: give s3://bucket/prefix or "disk"`);
    }
    if (!this.#backend && !this.#o.defaultUrl && (wanted === undefined || DISK.test(wanted))) return undefined;
    if (wanted !== undefined && isS3Url(wanted)) parseS3Url(wanted);
    const b = await this.backend();
    return b.assign(infoHashOf(source), wanted);
  }

  storageFor(meta: Metainfo, savePath: string): Storage | undefined {
    return this.#backend?.storageFor(meta, savePath);
  }

  locationOf(infoHash: string): string | undefined {
    return this.#backend?.locationOf(infoHash);
  }

  where(infoHash: string): StorageWhere | undefined {
    return this.#backend?.where(infoHash);
  }

  readFile(infoHash: string, file: number, start: number, end: number): AsyncIterable<Uint8Array> | undefined {
    return this.#backend?.readFile(infoHash, file, start, end);
  }

  async forget(infoHash: string): Promise<void> {
    await this.#backend?.forget(infoHash);
  }

  close(): void {
    this.#backend?.close();
  }
}

function infoHashOf(source: Uint8Array | string): string {
  return source instanceof Uint8Array ? parseTorrent(source).infoHashHex : parseTorrentId(source).infoHashHex;
}
