// BEP 52 test fixtures: v2-only and hybrid torrents made by libtorrent 2.0 (python3-libtorrent).
import { spawnSync } from 'node:child_process';

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

