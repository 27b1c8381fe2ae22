// torrent-rename-path (Transmission's tr_torrentRenamePath): `path` names a file or folder as
// torrent-get's `files` do (with a multi-file torrent's folder first), `name` its new last
// component. The torrent's own folder (or a single-file torrent's file) renames the torrent.

import type { CompatOps } from '../ops.ts';
import { RpcError, str, type Args } from './args.ts';

export async function renamePath(ops: CompatOps, infoHash: string, args: Args): Promise<{ path: string; name: string }> {
  const path = str(args, 'path');
  const name = str(args, 'name');
  if (path === undefined || path === '' || name === undefined) throw new RpcError('torrent-rename-path needs "path" and "name"');
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new RpcError(`Invalid argument: "${name}" is not a file or folder name`);
  const info = ops.info(infoHash);
  if (info.files === null) throw new RpcError('the torrent’s files are not known yet (its metadata is still being fetched)');
  const clean = path.replace(/^\/+|\/+$/g, '');
  const folder = info.folder ?? null;
  if (folder === null) {
    // A single-file torrent: its one file is the only path.
    if (info.files.length !== 1 || clean !== info.files[0]!.path) throw new RpcError(`Invalid argument: no path ${path} in this torrent`);
    await ops.renameFolder(infoHash, name);
  } else if (clean === folder) {
    await ops.renameFolder(infoHash, name);
  } else {
    if (!clean.startsWith(`${folder}/`)) throw new RpcError(`Invalid argument: no path ${path} in this torrent`);
    const below = clean.slice(folder.length + 1);
    const parent = below.includes('/') ? below.slice(0, below.lastIndexOf('/') + 1) : '';
    await ops.renamePath(infoHash, below, parent + name, 'either');
  }
  return { path, name };
}
