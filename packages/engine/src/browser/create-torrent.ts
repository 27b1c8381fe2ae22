// Makes a v1 torrent from File objects in the page. The info dict comes from ../torrent-builder.ts,
// as on Node, so a file seeded from the browser has the same infohash as the same file made into a
// torrent by Cascade on Node, mktorrent or libtorrent.

import { defaultPieceLength } from '../piece-length.ts';
import { buildTorrent, checkPieceLength, sortByPath, type TorrentFieldOptions } from '../torrent-builder.ts';
import { pieceSegments } from '../piece-map.ts';
import type { Metainfo } from '../types.ts';
import { sha1Digest } from './hasher.ts';

/** A File, or any Blob with a name (and optionally a path inside a folder). */
export interface NamedBlob extends Blob {
  readonly name: string;
  readonly webkitRelativePath?: string;
}

export interface CreateFromFilesOptions extends TorrentFieldOptions {
  /** Torrent name for several files; default: the folder name of a folder pick, else "files". */
  name?: string;
}

const PARALLEL = 4;

export async function createTorrentFromFiles(
  input: NamedBlob[],
  opts: CreateFromFilesOptions = {},
): Promise<{ torrent: Uint8Array; metainfo: Metainfo; blobs: Blob[] }> {
  if (input.length === 0) throw new Error('no files to make a torrent of');
  const rel = (f: NamedBlob) => (f.webkitRelativePath || f.name).split('/').filter((c) => c !== '' && c !== '.');
  let name: string;
  let files: { blob: NamedBlob; path: string[] }[];
  const multiFile = input.length > 1 || !!input[0]!.webkitRelativePath?.includes('/');
  if (!multiFile) {
    name = opts.name ?? input[0]!.name;
    files = [{ blob: input[0]!, path: [name] }];
  } else {
    const paths = input.map(rel);
    const top = paths[0]![0];
    const shared = paths.every((p) => p.length > 1 && p[0] === top);
    name = opts.name ?? (shared ? top! : 'files');
    files = sortByPath(input.map((blob, i) => ({ blob, path: shared ? paths[i]!.slice(1) : [paths[i]!.at(-1)!] })));
  }
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  const pieceLength = checkPieceLength(opts.pieceLength ?? defaultPieceLength(total));

  // A provisional metainfo gives the piece → file segments mapping used for hashing.
  const shape = {
    files: files.map((f, i) => ({ path: f.path, length: f.blob.size, offset: files.slice(0, i).reduce((n, g) => n + g.blob.size, 0) })),
    pieceLength,
    length: total,
    pieceCount: Math.ceil(total / pieceLength),
  } as unknown as Metainfo;
  const pieces = new Uint8Array(shape.pieceCount * 20);
  let next = 0;
  let hashed = 0;
  const worker = async () => {
    while (next < shape.pieceCount) {
      const index = next++;
      const parts = pieceSegments(shape, index).map((s) => files[s.file]!.blob.slice(s.fileOffset, s.fileOffset + s.length));
      const data = new Uint8Array(await new Blob(parts).arrayBuffer());
      pieces.set(await sha1Digest(data), index * 20);
      hashed += data.length;
      opts.onProgress?.(hashed, total);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  const built = buildTorrent({ name, multiFile, files: files.map((f) => ({ path: f.path, length: f.blob.size })), pieceLength, pieces }, opts);
  return { ...built, blobs: files.map((f) => f.blob) };
}
