// Adding a torrent from what a caller names (a magnet, an infohash, a content id, a .torrent's URL or bytes):
// the one path for Cascade's API (routes/add.ts) and the compatible APIs (compat-ops.ts).

import { parseTorrent, parseTorrentId, parseAddress } from '@cascade/engine';
import type { NodeCore, TorrentAdder } from '../core/node-parts.ts';
import type { NodePrivateShares } from '../core/node-private.ts';
import type { NodeContentIds } from '../core/content-ids.ts';

/** What adding by a user's source touches: the session, adding, private shares' keys, and the
 *  DHT's content records for an add by content id. */
export type AddingNode = Pick<NodeCore, 'session'> & TorrentAdder & Partial<TrackerDoors> & {
  readonly cluster: Pick<NodeCluster, 'replaceRemoved'> | undefined;
  readonly privateShares: Pick<NodePrivateShares, 'useKey' | 'keys'>;
  readonly content: Pick<NodeContentIds, 'findContent'>;
};
import type { TorrentHandle, TorrentSource } from '../core/engine.ts';
import { copyForAdd, type NodeCluster } from '../core/node-cluster.ts';
import { fetchTorrentFile } from './fetch-torrent.ts';
import { magnetOf, sharedTrackers, type TrackerDoors } from '../listing/torrent-view.ts';
import { errorMessage, invalid, NodeError } from '@cascade/node-state/errors';
import { splitLink } from '@cascade/private-shares';
import { isContentId } from '@cascade/content/cid';
import type { AddResult } from '@cascade/shapes';

/** Where and how to add, as the request gave it (the model resolves defaults and checks it). */
export interface AddOptions {
  peers?: string[];
  paused?: boolean;
  savePath?: string;
  category?: string;
  tags?: string[];
  /** A private share's content key, from a link's fragment: kept by the node, never given to the
   *  engine, a tracker or the stored source. */
  shareKey?: Uint8Array;
  /** Announces and DHT look-ups through onion circuits only; omitted = the node's default. */
  privateDiscovery?: boolean;
  /** http(s)/ftp mirrors of the content, drawn from beside the swarm (stored with the torrent: schema 11). */
  mirrors?: string[];
  storage?: string; // 's3://bucket/prefix' or 'disk' (issue 61); omitted: the node's default
}

export type { AddResult };

/** `node`: where it announces the torrent, for the magnet (sharedTrackers). */
export function addResult(t: TorrentHandle, existing: boolean, node: Partial<TrackerDoors> = {}): AddResult {
  const magnet = magnetOf(t, sharedTrackers(node, t, t.privateDiscovery === true));
  return { infoHash: t.infoHashHex, infoHashV2: t.metainfo?.infoHashV2Hex ?? null, magnet, name: t.metainfo?.name ?? t.stats().name ?? null, existing };
}

/** Adds a source unless the node already has that infohash (then that torrent is the answer). */
export async function addSource(node: AddingNode, infoHash: string, source: TorrentSource, extra: AddOptions = {}): Promise<AddResult> {
  const peers = (extra.peers ?? []).map((p) => {
    try {
      parseAddress(p);
    } catch {
      throw invalid(`peer "${p}" is not host:port`);
    }
    return p;
  });
  const { existing, release } = await copyForAdd(node, infoHash);
  if (existing) {
    await node.addPeers(existing, peers);
    if (extra.shareKey) await node.privateShares.useKey(existing, extra.shareKey);
    return addResult(existing, true, node);
  }
  try {
    // Before the add: a torrent whose metadata is known is looked at as soon as it is tracked.
    if (extra.shareKey) await node.privateShares.keys.set(infoHash, extra.shareKey, 'link');
    const t = await node.addWith(source, { savePath: extra.savePath, category: extra.category, tags: extra.tags, paused: extra.paused }, {
      peers,
      ...(extra.privateDiscovery !== undefined ? { privateDiscovery: extra.privateDiscovery } : {}),
      ...(extra.mirrors?.length ? { mirrors: extra.mirrors } : {}),
      ...(extra.storage !== undefined ? { storage: extra.storage } : {}),
    });
    return addResult(t, false, node);
  } catch (err) {
    if (extra.shareKey) await node.privateShares.keys.delete(infoHash);
    throw err;
  } finally {
    release?.();
  }
}

export function addTorrentBytes(node: AddingNode, bytes: Uint8Array, extra?: AddOptions): Promise<AddResult> {
  // parseTorrent throws MetainfoError for anything that is not a valid .torrent: a 400.
  const meta = parseTorrent(bytes);
  return addSource(node, meta.infoHashHex, bytes, extra);
}

/** A magnet, an infohash (40 hex or 32 base32) or an http(s) URL of a .torrent (fetched with the SSRF guard). */
export async function addUri(node: AddingNode, uriInput: string, extraInput: AddOptions, opts: { allowPrivateUrls: boolean }): Promise<AddResult> {
  // A private share's link: the key in the fragment stays on this node (nothing else sees a fragment).
  let split: ReturnType<typeof splitLink>;
  try {
    split = splitLink(uriInput.trim());
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const uri = split.uri;
  const extra = split.key ? { ...extraInput, shareKey: split.key } : extraInput;
  if (/^https?:\/\//i.test(uri)) {
    return addTorrentBytes(node, await fetchTorrentFile(uri, { allowPrivate: opts.allowPrivateUrls }), extra);
  }
  if (isContentId(uri)) {
    const found = await resolveContent(node, uri);
    return addSource(node, parseTorrentId(found.source).infoHashHex, found.source, extra);
  }
  if (/^magnet:/i.test(uri) || /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(uri) || /^[a-z2-7]{32}$/i.test(uri)) {
    // Malformed magnets throw MetainfoError ("invalid magnet: …"): a 400 with that message.
    return addSource(node, parseTorrentId(uri).infoHashHex, uri, extra);
  }
  throw invalid(
    'uri must be a magnet link, an infohash (40 hex or 32 base32; 64 hex for v2), a content id, or an http(s):// or ftp:// URL ' +
      '(of a .torrent, or of a plain file to download)',
  );
}

/** A content id to the torrent the DHT's records say holds it, as a magnet naming its providers
 *  (the content ids' findContent); nothing found is the caller's problem to fix: a 422 saying so. */
async function resolveContent(node: AddingNode, cid: string): Promise<{ source: string }> {
  try {
    return { source: (await node.content.findContent(cid)).magnet };
  } catch (err) {
    throw new NodeError('unusable', errorMessage(err));
  }
}
