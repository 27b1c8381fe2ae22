// How a content id becomes something to download: the torrents that hold the file and who provides
// it. The DHT records of @cascade/content answer this; the download command takes any resolver, so
// it works the same whichever look-up a node has (or says clearly that it has none).

export interface ResolvedContent {
  /** v1 (40 hex) or v2 (64 hex) infohashes of torrents holding the file. */
  infoHashes: string[];
  /** "host:port" of peers said to provide it. */
  providers: string[];
}

export interface ContentResolver {
  resolve(cid: string, signal?: AbortSignal): Promise<ResolvedContent>;
}
