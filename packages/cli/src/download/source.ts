// Turning a user's torrent argument into something the engine accepts. The contract: an existing
// file is a .torrent; anything else must be a magnet URI or a bare infohash. Bad input is a usage
// error (exit 2) with a message naming what was expected, caught before any node starts.

import { readFile, stat } from 'node:fs/promises';
import { errorMessage } from '@cascade/node/verbs';
import { UsageError } from '../core/errors.ts';
import type { EngineLib } from '../core/engine.ts';

export type ParseLib = Pick<EngineLib, 'parseTorrent' | 'parseTorrentId' | 'parseInfoDict' | 'renamedMetainfo'> & Partial<Pick<EngineLib, 'torrentLimits'>>;

export interface DescribedSource {
  /** What to hand to session.add: .torrent bytes, a magnet URI, or a bare hex infohash. */
  source: Uint8Array | string;
  infoHash: string;
  name: string | undefined;
  length: number | undefined;
  pieceCount: number | undefined;
  /** Trackers from the magnet (for display); .torrent trackers live in the bytes. */
  trackers: string[];
}

/** The size of a regular file, or undefined. */
async function fileSize(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

export async function describeSource(arg: string, loadLib: () => Promise<ParseLib>): Promise<DescribedSource> {
  const size = await fileSize(arg);
  if (size !== undefined) {
    // Not read at all past the limit: a multi-GB file given by mistake would be read whole first.
    const max = (await loadLib()).torrentLimits?.().maxTorrentBytes;
    if (max !== undefined && size > max) {
      throw new UsageError(`${arg} is not a valid .torrent file: it is ${size} bytes, more than the limit of ${max} bytes (maxTorrentBytes)`);
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(arg));
    } catch (err) {
      throw new UsageError(`cannot read ${arg}: ${errorMessage(err)}`);
    }
    return describeTorrentBytes(bytes, arg, await loadLib());
  }
  const lib = await loadLib();
  let m;
  try {
    m = lib.parseTorrentId(arg);
  } catch (err) {
    if (/^magnet:/i.test(arg)) {
      const msg = errorMessage(err);
      throw new UsageError(/^invalid magnet/.test(msg) ? msg : `invalid magnet link: ${msg}`);
    }
    if (/\.torrent$/i.test(arg)) throw new UsageError(`no such torrent file: ${arg}`);
    throw new UsageError(`"${arg}" is not a .torrent file, magnet link or infohash`);
  }
  // The engine takes the string itself (magnet or bare infohash), so keep it as given.
  return { source: arg.trim(), infoHash: m.infoHashHex, name: m.name, length: undefined, pieceCount: undefined, trackers: m.trackers };
}

export function describeTorrentBytes(bytes: Uint8Array, label: string, lib: ParseLib): DescribedSource {
  let meta;
  try {
    meta = lib.parseTorrent(bytes);
  } catch (err) {
    throw new UsageError(`${label} is not a valid .torrent file: ${errorMessage(err)}`);
  }
  return {
    source: bytes,
    infoHash: meta.infoHashHex,
    name: meta.name,
    length: meta.length,
    pieceCount: meta.pieceCount,
    trackers: meta.announce.flat(),
  };
}
