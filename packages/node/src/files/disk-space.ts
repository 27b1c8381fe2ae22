// Free and total bytes where data goes: the cluster's figures (core/member-stats.ts) and the
// assistant's view of the node (@cascade/node-assistant) read them.

import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Free and total bytes of the file system holding `path` (its nearest existing parent). */
export async function diskSpace(path: string): Promise<{ free: number; total: number } | undefined> {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      const s = await statfs(p);
      return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
    } catch {
      const up = dirname(p);
      if (up === p) return undefined;
      p = up;
    }
  }
  return undefined;
}
