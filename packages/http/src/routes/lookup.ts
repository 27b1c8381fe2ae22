// Finding the torrent a URL names. The API takes exact 40-hex infohashes only (the schema checks the
// shape); prefixes are a command-line convenience that would make URLs ambiguous.

import type { ApiContext } from '../app/context.ts';
import type { TorrentHandle } from '@cascade/node/features';
import type { TorrentRecord } from '@cascade/node';
import { conflict, notFound } from '../app/http-errors.ts';
import { storedTorrentDetail, torrentDetail } from '@cascade/node/features';
import type { TorrentDetail } from '@cascade/shapes';

export interface Found {
  infoHash: string;
  torrent: TorrentHandle | undefined;
  record: TorrentRecord | undefined;
}

/** The live torrent and/or its library record; 404 when the node knows neither. */
export function findTorrent(ctx: ApiContext, infoHash: string): Found {
  const ih = torrentIdOf(ctx, infoHash.toLowerCase());
  const torrent = ctx.node.session.get(ih);
  const record = ctx.node.db.getTorrent(ih);
  if (!torrent && !record) throw notFound(`no torrent with infohash ${ih}`);
  return { infoHash: ih, torrent, record };
}

/** A torrent's id (40 hex) for an infohash in a URL: a 64-hex v2 infohash names the hybrid torrent
 *  that has it, else the v2-only torrent whose id is its first 40 digits (BEP 52's truncation). */
export function torrentIdOf(ctx: ApiContext, ih: string): string {
  if (ih.length !== 64) return ih;
  const hybrid = ctx.node.session.list().find((t) => t.metainfo?.infoHashV2Hex === ih);
  return hybrid ? hybrid.infoHashHex : ih.slice(0, 40);
}

/** The live torrent; 409 for one that is only in the library (it failed to load). */
export function loadedTorrent(ctx: ApiContext, infoHash: string): TorrentHandle {
  const f = findTorrent(ctx, infoHash);
  if (!f.torrent) throw conflict(`torrent ${f.infoHash} is in the library but not loaded${f.record?.error ? `: ${f.record.error}` : ''}`);
  return f.torrent;
}

/** The detail view of a torrent: live, or what the library knows of one that is stored but not running. */
export function torrentDetailOf(ctx: ApiContext, infoHash: string): TorrentDetail {
  const f = findTorrent(ctx, infoHash);
  if (f.torrent) return torrentDetail(ctx.node, f.torrent);
  // Stored but not running here (another member holds it, or it failed to load).
  return storedTorrentDetail(ctx.node, f.record!);
}
