// Choosing which files of a torrent to download: one rule for Cascade's API and the compatible APIs.

import type { NodeCore } from '../core/node-parts.ts';
import type { TorrentHandle } from '../core/engine.ts';
import { conflict, invalid } from '@cascade/node-state/errors';
import { followSelection } from './torrent-edits.ts';

/** Selects `selected` (metainfo file indexes; null = all) and stores it; returns the sorted selection. */
export async function selectFiles(node: Pick<NodeCore, 'db'>, t: TorrentHandle, selected: readonly number[] | null): Promise<number[]> {
  const meta = t.metainfo;
  if (!meta) throw conflict('the torrent’s metadata is not known yet; select files once it is');
  const chosen = selected === null ? meta.files.map((_, i) => i) : [...new Set(selected)].sort((a, b) => a - b);
  const bad = chosen.find((i) => !Number.isSafeInteger(i) || i < 0 || i >= meta.files.length);
  if (bad !== undefined) throw invalid(`file index ${bad} is out of range: the torrent has ${meta.files.length} file(s)`);
  // Everything selected is stored as "all" (null), the same as a torrent never narrowed down.
  const all = chosen.length === meta.files.length;
  t.selectFiles(all ? undefined : chosen);
  await node.db.records.setSelectedFiles(t.infoHashHex, all ? null : chosen);
  await followSelection(node, t);
  return chosen;
}
