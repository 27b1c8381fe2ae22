// BEP 47 attributes on disk: the executable bit (`x`) given to a file as it is created, and
// symlinks (`l`) made as relative links inside the torrent's folder. The parser already points
// every link at one of the torrent's own files or folders (metainfo/metainfo-paths.ts, libtorrent's rule);
// this is the last line of defence before the disk: a link that would resolve outside the folder,
// or one pointing at itself, is not made, and nothing that is already there is replaced.

import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileEntry } from '../types.ts';

/** The mode a file is created with: the umask then takes away what the user does not want. */
export const createMode = (f: FileEntry): number => (f.executable ? 0o777 : 0o666);

/** The link's text for file `f` at `at`, relative so the folder can move; undefined when none is made. */
export function linkText(f: FileEntry, root: string, at: string): string | undefined {
  if (!f.symlink || f.symlink.join('/') === f.path.join('/')) return undefined;
  const target = root + path.sep + f.symlink.join(path.sep);
  const text = path.relative(path.dirname(at), target);
  const resolved = path.resolve(path.dirname(at), text);
  if (!resolved.startsWith(root + path.sep)) return undefined;
  return text;
}

/** Makes the link (its folder exists); an entry already there is kept unless it is this very link. */
export async function makeLink(text: string, at: string): Promise<void> {
  try {
    await fs.symlink(text, at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Already made (a restart), or something of the user's: either way it stays.
  }
}
