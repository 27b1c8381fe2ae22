// A file or folder renamed through any member is renamed in every holder's copy (issue 63: a
// qBittorrent renameFile through a member holding no copy answered 409, one in three behind a
// balancer). The names are the library's (torrents.renamed_files, shared): a member that holds no
// copy stores the new names there without touching a disk (@cascade/http's compat-edits.ts), and each holder, hearing
// the torrent's row changed, renames its own copy to match (followRenames), journalled as any
// rename (the node's renamePath), which writes the same names back: nothing more to follow.

import type { CascadeNode } from '@cascade/node';
import { renamePath, renameTorrentFolder, type TorrentHandle } from '@cascade/node/features';
import { errorMessage } from '@cascade/node/basics';

/** Renames this member's copy to the names the library stores, where they differ. */
export async function followRenames(node: CascadeNode, t: TorrentHandle): Promise<void> {
  const stored = node.db.records.get(t.infoHashHex)?.renamedFiles;
  const meta = t.metainfo;
  if (!stored || !meta || !t.renamedFiles) return;
  const current = t.renamedFiles();
  try {
    const folder = stored[-1]?.[0];
    if (folder !== undefined && folder !== meta.name) await renameTorrentFolder(node, t, folder);
    for (const [key, to] of Object.entries(stored)) {
      const i = Number(key);
      if (i < 0 || JSON.stringify(current[i]) === JSON.stringify(to)) continue;
      const from = t.metainfo?.files[i]?.path.join('/');
      if (from !== undefined && from !== to.join('/')) await renamePath(node, t, from, to.join('/'), 'file');
    }
  } catch (err) {
    node.out.note(`cluster: renaming this member's copy of ${t.infoHashHex} as the library names it failed: ${errorMessage(err)}`);
  }
}
