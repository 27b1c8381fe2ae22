// Where torrents' data lives beyond the download dir (issue 61): a plug-in the layer that starts the
// node hands in (the CLI's, from @cascade/storage-s3), so a node on its disk alone loads nothing of it.
// The node only asks it three things: where a new torrent goes, the storage of a torrent whose
// metadata is known, and to forget a torrent removed.

import type { Metainfo, Storage, TorrentSource } from './engine.ts';

export interface StoragePlugin {
  /**
   * Before a new torrent is added: where its data goes. `storage` is as the add gave it
   * ('s3://bucket/prefix', 'disk', or undefined for the node's default). Rejects with a clear
   * message when the location is malformed or unusable (no such bucket, credentials refused).
   * Returns the location chosen (undefined: the disk).
   */
  assign(source: TorrentSource, storage: string | undefined): Promise<string | undefined>;
  /** The torrent's storage when it is not on the disk (SessionOptions.storageFor's part). */
  storageFor(meta: Metainfo, savePath: string): Storage | undefined;
  /** Where a torrent keeps its data ('s3://…'), or undefined for the disk. */
  locationOf(infoHash: string): string | undefined;
  /** The torrent was removed from the node. */
  forget(infoHash: string): Promise<void>;
  close(): void;
}
