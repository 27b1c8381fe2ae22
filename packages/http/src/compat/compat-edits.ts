// The torrent edits of CompatOps (issue 45): each one the node's own operation from
// @cascade/node's torrent edits, so qBittorrent's and Transmission's remotes change a torrent
// exactly as Cascade's API would.

import type { TorrentEditOps } from '@cascade/compat';
import type { ApiContext } from '../app/context.ts';
import {
  addTrackers, checkPeerAddress, editTracker, pieceOrder, pieceStates, removeTrackers, renamePath, renameTorrentFolder, setDisplayName,
  setPieceOrder, setTrackerTiers, trackerTiers,
} from '@cascade/node/features';
import { findTorrent, loadedTorrent } from '../routes/lookup.ts';
import { conflict } from '../app/http-errors.ts';
import { toHex } from '@cascade/engine';
import type { TorrentHandle } from '@cascade/node/features';

/** A torrent not loaded here, as the node's rename edits take it: its metainfo as the library names
 *  it, a rename that only records the names (no copy here to rename). */
function storedNames(infoHash: string, meta: NonNullable<TorrentHandle['metainfo']>, savePath: string, stored: Record<number, string[]> | null): TorrentHandle {
  let renames = { ...(stored ?? {}) };
  const rename = async (r: Record<number, string[]>) => void (renames = { ...renames, ...r });
  return { infoHashHex: infoHash, metainfo: meta, savePath, rename, renamedFiles: () => ({ ...renames }) } as unknown as TorrentHandle;
}

export function compatEdits(ctx: ApiContext): TorrentEditOps {
  const { node } = ctx;
  const loaded = (ih: string) => loadedTorrent(ctx, ih);
  // A torrent only other members of a cluster hold: renamed in the library, whose names each
  // holder gives its own copy (@cascade/cluster's holder-renames.ts), as a move is asked of them.
  const named = (ih: string): TorrentHandle => {
    const f = findTorrent(ctx, ih);
    const meta = f.torrent ? undefined : node.db.elsewhere?.metainfo(f.infoHash);
    return meta && f.record ? storedNames(f.infoHash, meta, f.record.savePath, f.record.renamedFiles) : loaded(ih);
  };
  const changed = async (p: Promise<unknown>) => {
    await p;
    ctx.changed();
  };
  let orderVersion = 0;
  return {
    async setName(ih, name) {
      await setDisplayName(node, findTorrent(ctx, ih).infoHash, name);
      ctx.changed();
    },
    renamePath: (ih, from, to, kind) => changed(renamePath(node, named(ih), from, to, kind)),
    renameFolder: (ih, name) => changed(renameTorrentFolder(node, named(ih), name)),
    trackerTiers(ih) {
      const f = findTorrent(ctx, ih);
      return f.torrent ? trackerTiers(f.torrent) : (f.record?.trackerTiers ?? []);
    },
    setTrackerTiers: (ih, tiers) => changed(setTrackerTiers(node, loaded(ih), tiers)),
    addTrackers: (ih, urls) => changed(addTrackers(node, loaded(ih), urls)),
    editTracker: (ih, from, to) => changed(editTracker(node, loaded(ih), from, to)),
    removeTrackers: (ih, urls) => changed(removeTrackers(node, loaded(ih), urls)),
    addPeers(ih, peers) {
      const checked = peers.map(checkPeerAddress);
      node.addPeers(loaded(ih), checked);
    },
    pieces: (ih) => pieceStates(loaded(ih)),
    pieceHashes(ih) {
      const meta = loaded(ih).metainfo;
      if (!meta) throw conflict('the torrent’s metadata is not known yet');
      const out: string[] = [];
      for (let i = 0; i + 20 <= meta.pieceHashes.length; i += 20) out.push(toHex(meta.pieceHashes.subarray(i, i + 20)));
      return out;
    },
    // Read for every row of a list: a map look-up, no library read.
    pieceOrder: (ih) => pieceOrder(node.session.get(ih.toLowerCase())),
    pieceOrderVersion: () => orderVersion,
    async setPieceOrder(ih, change) {
      await setPieceOrder(node, loaded(ih), change);
      orderVersion++;
      ctx.changed();
    },
  };
}
