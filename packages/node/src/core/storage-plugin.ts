// Where torrents' data lives beyond the download dir (issue 61): a plug-in the layer that starts the
// node hands in (the CLI's, from @cascade/storage-s3), so a node on its disk alone loads nothing of it.
import type { Metainfo, Storage, TorrentSource } from './engine.ts';

export interface StoragePlugin {
  /** Before a new torrent is added: where its data goes ('s3://bucket/prefix', 'disk', undefined: the
   *  default); rejects in words on a malformed location, a missing bucket, refused credentials. */
  assign(source: TorrentSource, storage: string | undefined): Promise<string | undefined>;
  /** The torrent's storage when it is not on the disk (SessionOptions.storageFor's part). */
  storageFor(meta: Metainfo, savePath: string): Storage | undefined;
  forget(infoHash: string): Promise<void>;
  close(): void;
}
