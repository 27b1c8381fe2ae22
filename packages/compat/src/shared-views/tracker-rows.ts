// Views both adapters (Transmission, qBittorrent) build alike from CompatOps.
// A torrent's trackers as both remotes list them: in the order of its tiers as configured (the
// engine moves a tracker that answers to the front of its tier, BEP 12, which would reorder a
// remote's list under it and shift the ids Transmission edits by), each with the engine's status,
// and those the engine has not announced to (a stopped torrent's, WebSocket ones) as not contacted.

import type { CompatOps, TrackerRow } from '../ops.ts';

export function trackerRows(ops: CompatOps, infoHash: string, live: readonly TrackerRow[]): TrackerRow[] {
  let tiers: string[][] = [];
  try {
    tiers = ops.trackerTiers(infoHash);
  } catch {
    // gone meanwhile: what the detail had
  }
  const byUrl = new Map(live.map((t) => [t.url, t]));
  const rows: TrackerRow[] = [];
  tiers.forEach((tier, i) => {
    for (const url of tier) {
      const t = byUrl.get(url);
      rows.push(t ? { ...t, tier: i } : { url, tier: i, status: 'idle', peers: 0 });
      byUrl.delete(url);
    }
  });
  return [...rows, ...byUrl.values()];
}
