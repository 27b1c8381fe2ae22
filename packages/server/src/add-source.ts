// Adding a torrent from what a caller names (a magnet, an infohash, a .torrent's URL or bytes):
// the one path for Cascade's API (routes/add.ts) and the compatible APIs (compat-ops.ts).

import { parseTorrent, parseTorrentId, parseAddress } from '@cascade/engine';
import type { CascadeNode } from './node.ts';
import type { TorrentHandle, TorrentSource } from './engine.ts';
import { fetchTorrentFile } from './fetch-torrent.ts';
import { magnetOf } from './torrent-view.ts';
import { badRequest } from './http-errors.ts';

/** Where and how to add, as the request gave it (the model resolves defaults and checks it). */
export interface AddOptions {
  peers?: string[];
  paused?: boolean;
  savePath?: string;
  category?: string;
  tags?: string[];
}

export interface AddResult {
  infoHash: string;
  magnet: string;
  name: string | null;
  existing: boolean;
}

export function addResult(t: TorrentHandle, existing: boolean): AddResult {
  return { infoHash: t.infoHashHex, magnet: magnetOf(t), name: t.metainfo?.name ?? t.stats().name ?? null, existing };
}

/** Adds a source unless the node already has that infohash (then that torrent is the answer). */
export async function addSource(node: CascadeNode, infoHash: string, source: TorrentSource, extra: AddOptions = {}): Promise<AddResult> {
  const peers = (extra.peers ?? []).map((p) => {
    try {
      parseAddress(p);
    } catch {
      throw badRequest(`peer "${p}" is not host:port`);
    }
    return p;
  });
  const existing = node.session.get(infoHash);
  if (existing) {
    node.addPeers(existing, peers);
    return addResult(existing, true);
  }
  const t = await node.addWith(source, { savePath: extra.savePath, category: extra.category, tags: extra.tags, paused: extra.paused }, { peers });
  return addResult(t, false);
}

export function addTorrentBytes(node: CascadeNode, bytes: Uint8Array, extra?: AddOptions): Promise<AddResult> {
  // parseTorrent throws MetainfoError for anything that is not a valid .torrent: a 400.
  const meta = parseTorrent(bytes);
  return addSource(node, meta.infoHashHex, bytes, extra);
}

/** A magnet, an infohash (40 hex or 32 base32) or an http(s) URL of a .torrent (fetched with the SSRF guard). */
export async function addUri(node: CascadeNode, uriInput: string, extra: AddOptions, opts: { allowPrivateUrls: boolean }): Promise<AddResult> {
  const uri = uriInput.trim();
  if (/^https?:\/\//i.test(uri)) {
    return addTorrentBytes(node, await fetchTorrentFile(uri, { allowPrivate: opts.allowPrivateUrls }), extra);
  }
  if (/^magnet:/i.test(uri) || /^[0-9a-f]{40}$/i.test(uri) || /^[a-z2-7]{32}$/i.test(uri)) {
    // Malformed magnets throw MetainfoError ("invalid magnet: …"): a 400 with that message.
    return addSource(node, parseTorrentId(uri).infoHashHex, uri, extra);
  }
  throw badRequest('uri must be a magnet link, an infohash (40 hex or 32 base32) or an http(s) URL of a .torrent');
}
