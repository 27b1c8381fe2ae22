// Tracker tier lists shared between torrents: 10,000 torrents with the same trackers (a node's own,
// a private tracker's) hold one frozen copy instead of a few arrays each.

const tierLists = new Map<string, string[][]>();
/** Past this many distinct lists, torrents keep their own. */
const MAX_TIER_LISTS = 1000;
const NO_TIERS = Object.freeze([]) as unknown as string[][];

/** The shared, frozen copy of `tiers` (never to be changed in place). */
export function sharedTiers(tiers: readonly (readonly string[])[]): string[][] {
  if (tiers.length === 0) return NO_TIERS;
  const key = JSON.stringify(tiers);
  const have = tierLists.get(key);
  if (have) return have;
  const frozen = Object.freeze(tiers.map((t) => Object.freeze([...t]))) as string[][];
  if (tierLists.size < MAX_TIER_LISTS) tierLists.set(key, frozen);
  return frozen;
}
