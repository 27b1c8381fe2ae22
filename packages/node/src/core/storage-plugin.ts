// Where torrents' data lives beyond the download dir (issue 61), handed in by the CLI (@cascade/storage-s3): a disk-only node loads none of it.
import type { StorageLocation } from '@cascade/shapes';
import type { Metainfo, Storage, TorrentSource } from './engine.ts';
export interface StoragePlugin {
  /** Before a new torrent is added: where its data goes ('s3://bucket/prefix', 'disk', undefined: the
   *  default); rejects in words on a malformed location, a missing bucket, refused credentials. */
  assign(source: TorrentSource, storage: string | undefined): Promise<string | undefined>;
  storageFor(meta: Metainfo, savePath: string): Storage | undefined; // the torrent's storage off the disk (SessionOptions.storageFor's part)
  forget(infoHash: string): Promise<void>;
  where?(infoHash: string): StorageLocation | undefined; // where a torrent kept off the disk is (the detail's `storage`; never credentials)
  readFile?(infoHash: string, file: number, start: number, end: number): AsyncIterable<Uint8Array> | undefined; // a complete file's bytes there (/webseed)
  close(): void;
}
