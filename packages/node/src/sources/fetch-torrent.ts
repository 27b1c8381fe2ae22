// The guarded fetches of @cascade/sources/guarded with the node's errors: a FetchError becomes the
// NodeError of its kind (invalid, unusable, too-large: a 4xx over HTTP, the CLI's exit code).
import * as guarded from '@cascade/sources/guarded';
import { NodeError } from '@cascade/node-state/errors';

export { MAX_TORRENT_FILE } from '@cascade/sources/guarded';

const asNodeError = (err: unknown): unknown => (err instanceof guarded.FetchError ? new NodeError(err.kind, err.message, { cause: err }) : err);

export function fetchTorrentFile(url: string, opts?: guarded.FetchTorrentOptions): Promise<Uint8Array> {
  return guarded.fetchTorrentFile(url, opts).catch((err: unknown) => Promise.reject(asNodeError(err)));
}

export function fetchCapped(url: string, opts: guarded.FetchCappedOptions): Promise<Uint8Array> {
  return guarded.fetchCapped(url, opts).catch((err: unknown) => Promise.reject(asNodeError(err)));
}
