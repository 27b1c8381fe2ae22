// BEP 52 test fixtures: v2-only and hybrid torrents made by libtorrent 2.0 (python3-libtorrent), and
// a stopgap reader for them until metainfo.ts parses v2 (then parseTorrent is used as it is).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { decode, isDict, type BDict, type BValue } from '../src/bencode.ts';
import { parseTorrent } from '../src/metainfo.ts';
import { toHex } from '../src/hex.ts';
import { rootFromPieceLayer } from '../src/merkle.ts';
import type { FileEntry, Metainfo } from '../src/types.ts';

const MAKE = `
import sys, libtorrent as lt
src, parent, out, piece, kind = sys.argv[1:6]
fs = lt.file_storage()
lt.add_files(fs, src)
flags = {'v2': lt.create_torrent.v2_only, 'hybrid': 0, 'v1': lt.create_torrent.v1_only}[kind]
ct = lt.create_torrent(fs, int(piece), flags=flags)
lt.set_piece_hashes(ct, parent)
open(out, 'wb').write(lt.bencode(ct.generate()))
ti = lt.torrent_info(out)
ih = ti.info_hashes()
print(str(ih.v1) if ih.has_v1() else '-', str(ih.v2) if ih.has_v2() else '-')
`;

/** Makes a .torrent of `src` (a file or folder inside `parent`) with libtorrent; returns libtorrent's
 *  own v1 and v2 infohashes (hex, '' where the torrent has none). */
export function makeLtTorrent(src: string, parent: string, out: string, pieceLength: number, kind: 'v2' | 'hybrid' | 'v1'): { v1: string; v2: string } {
  const r = spawnSync('/usr/bin/python3', ['-c', MAKE, src, parent, out, String(pieceLength), kind], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`libtorrent create_torrent failed: ${r.stderr}`);
  const [v1 = '-', v2 = '-'] = r.stdout.trim().split(' ');
  return { v1: v1 === '-' ? '' : v1, v2: v2 === '-' ? '' : v2 };
}

/** parseTorrent once it knows v2; until then the v2 fields are read here. */
export function parseV2Torrent(bytes: Uint8Array): Metainfo {
  let meta: Metainfo | undefined;
  try {
    meta = parseTorrent(bytes);
  } catch {
    meta = undefined;
  }
  if (meta?.version) return meta;
  const { value, span } = decode(bytes, { spanOf: 'info' });
  const top = value as BDict;
  const info = top['info'] as BDict;
  const infoBytes = bytes.subarray(span!.start, span!.end);
  const v2Hash = createHash('sha256').update(infoBytes).digest();
  const pieceLength = Number(info['piece length']);
  const tree: { path: string[]; length: number; piecesRoot?: Uint8Array }[] = [];
  const walk = (d: BDict, prefix: string[]) => {
    for (const key of Object.keys(d).sort()) {
      const v = d[key] as BDict;
      if (key === '') {
        const length = Number(v['length']);
        tree.push({ path: prefix, length, piecesRoot: length > 0 ? new Uint8Array(v['pieces root'] as Uint8Array) : undefined });
      } else walk(v, [...prefix, key]);
    }
  };
  walk(info['file tree'] as BDict, []);
  const layers = new Map<string, Uint8Array>();
  // The decoder reads keys as UTF-8 (binary roots come out mangled): a layer is known by its root.
  for (const v of Object.values((top['piece layers'] as BDict | undefined) ?? {})) layers.set(toHex(rootFromPieceLayer(v as Uint8Array, pieceLength)), new Uint8Array(v as Uint8Array));
  const version = meta ? 'hybrid' : 'v2';
  let files: FileEntry[];
  if (meta) {
    let k = 0;
    files = meta.files.map((f) => (f.pad ? f : { ...f, piecesRoot: tree[k++]!.piecesRoot }));
  } else {
    files = [];
    let offset = 0;
    tree.forEach((f, i) => {
      files.push({ path: f.path, length: f.length, offset, piecesRoot: f.piecesRoot });
      offset += f.length;
      const gap = (pieceLength - (offset % pieceLength)) % pieceLength;
      if (f.length > 0 && gap > 0 && i < tree.length - 1) {
        files.push({ path: ['.pad', String(gap)], length: gap, offset, pad: true });
        offset += gap;
      }
    });
  }
  const single = tree.length === 1 && tree[0]!.path.length === 1;
  if (single && !meta) files = files.map((f) => ({ ...f, path: [String(info['name'] ? Buffer.from(info['name'] as Uint8Array).toString() : f.path[0])] }));
  const length = files.reduce((n, f) => Math.max(n, f.offset + f.length), 0);
  const id = meta?.infoHash ?? new Uint8Array(v2Hash.subarray(0, 20));
  return {
    infoHash: id, infoHashHex: toHex(id), version, infoHashV2: new Uint8Array(v2Hash), infoHashV2Hex: v2Hash.toString('hex'),
    pieceLayers: layers, infoBytes: new Uint8Array(infoBytes), name: Buffer.from(info['name'] as Uint8Array).toString(),
    pieceLength, pieceHashes: meta?.pieceHashes ?? new Uint8Array(0), pieceCount: Math.ceil(length / pieceLength), length, files,
    multiFile: !single, private: false, announce: [], urlList: [],
  };
}

export function isV2Dict(v: BValue | undefined): boolean {
  return isDict(v) && 'file tree' in v;
}
