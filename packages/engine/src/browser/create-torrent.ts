// Makes a torrent (v1, or v2 / hybrid per BEP 52) from File objects in the page. The info dict
// comes from ../torrent-builder.ts, as on Node, so a file seeded from the browser has the same
// infohashes as the same file made into a torrent by Cascade on Node, mktorrent or libtorrent.

import { defaultPieceLength } from '../metainfo/piece-length.ts';
import { buildTorrent, buildTorrentFromLeaves, checkPieceLength, sortByPath, sortByTree, type TorrentFieldOptions } from '../metainfo/torrent-builder.ts';
import { pieceSegments } from '../pieces/piece-map.ts';
import { BLOCK_SIZE, HASH_LENGTH } from '../hashing/merkle.ts';
import type { Metainfo } from '../types.ts';
import { sha1Digest, sha256Digest } from './hasher.ts';

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
  const version = opts.version ?? 'v1';
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
    const sort = version === 'v1' ? sortByPath : sortByTree;
    files = sort(input.map((blob, i) => ({ blob, path: shared ? paths[i]!.slice(1) : [paths[i]!.at(-1)!] })));
  }
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  const pieceLength = checkPieceLength(opts.pieceLength ?? defaultPieceLength(total));
  if (version !== 'v1') return createV2(name, multiFile, files, pieceLength, version === 'hybrid', opts);

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

/**
 * v2 and hybrid: every non-empty file starts on a piece boundary, so each piece lies in one file
 * (a hybrid's v1 piece is that slice plus its pad's zeros). Leaves are the SHA-256 of 16 KiB blocks.
 */
async function createV2(
  name: string,
  multiFile: boolean,
  files: { blob: NamedBlob; path: string[] }[],
  pieceLength: number,
  hybrid: boolean,
  opts: CreateFromFilesOptions,
): Promise<{ torrent: Uint8Array; metainfo: Metainfo; blobs: Blob[] }> {
  const padded = files.length > 1;
  const jobs = files.flatMap((f, file) => Array.from({ length: Math.ceil(f.blob.size / pieceLength) }, (_, piece) => ({ file, piece })));
  const leaves = files.map((f) => new Uint8Array(Math.ceil(f.blob.size / BLOCK_SIZE) * HASH_LENGTH));
  const pieces = hybrid ? new Uint8Array(jobs.length * 20) : undefined;
  const total = files.reduce((n, f) => n + f.blob.size, 0);
  let next = 0;
  let hashed = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      const { file, piece } = jobs[index]!;
      const blob = files[file]!.blob;
      const data = new Uint8Array(await blob.slice(piece * pieceLength, Math.min(blob.size, (piece + 1) * pieceLength)).arrayBuffer());
      const first = (piece * pieceLength) / BLOCK_SIZE;
      const blocks = await Promise.all(
        Array.from({ length: Math.ceil(data.length / BLOCK_SIZE) }, (_, b) => sha256Digest(data.subarray(b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE))),
      );
      blocks.forEach((h, b) => leaves[file]!.set(h, (first + b) * HASH_LENGTH));
      if (pieces) {
        let v1 = data;
        if (padded && data.length < pieceLength) {
          v1 = new Uint8Array(pieceLength);
          v1.set(data);
        }
        pieces.set(await sha1Digest(v1), index * 20);
      }
      hashed += data.length;
      opts.onProgress?.(hashed, total);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));

  const leafFiles = files.map((f, i) => ({ path: f.path, length: f.blob.size, leaves: leaves[i]! }));
  const built = buildTorrentFromLeaves({ name, multiFile, files: leafFiles, pieceLength, pieces }, opts);
  // Storage wants one Blob per entry of the file list, pads included (they are never read).
  const queue = files.map((f) => f.blob as Blob);
  const blobs = built.metainfo.files.map((f) => (f.pad ? new Blob([]) : queue.shift()!));
  return { ...built, blobs };
}
