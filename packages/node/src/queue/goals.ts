// Seeding goals as pure functions: the limit that applies to a torrent, and whether it has been
// reached (the ratio is the one the list shows: listing.ts ratioOf).
//
// Limits: a torrent's own ratioLimit / seedingTimeLimit, where null means "the global setting" and -1
// means "no limit for this torrent" (whatever the global one says); the global settings use null for
// "no limit". 0 is a real limit: the torrent stops as soon as it completes (qBittorrent's meaning).

/** The limit in force: the torrent's own unless null; -1 (or any negative) = none. */
export function effectiveLimit(own: number | null, global: number | null): number | null {
  const v = own ?? global;
  return v === null || v < 0 ? null : v;
}

export interface SeedingProgress {
  ratio: number;
  /** Seconds spent seeding, over every run. */
  seedingTime: number;
}

/** Which goal a seeding torrent has reached, if any: 'ratio' or 'seedingTime'. */
export function goalReached(
  p: SeedingProgress,
  ratioLimit: number | null,
  seedingTimeLimit: number | null,
): 'ratio' | 'seedingTime' | undefined {
  if (ratioLimit !== null && p.ratio >= ratioLimit) return 'ratio';
  if (seedingTimeLimit !== null && p.seedingTime >= seedingTimeLimit) return 'seedingTime';
  return undefined;
}
