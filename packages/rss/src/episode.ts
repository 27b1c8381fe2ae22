// Episode filters, as qBittorrent writes them, and the episode a title names.
//
// qBittorrent's syntax: a season, "x", then episodes separated by ";" — the filter ends with ";":
//   1x25;        episode 25 of season 1
//   1x25-40;     episodes 25 to 40 of season 1
//   1x25-;       episode 25 of season 1 onwards, and every episode of later seasons
//   1x2;8-15;30-;  several: 2, 8 to 15, 30 onwards (all of season 1)
// The S/E spelling is accepted too, with the same meanings (season/episode leading zeros optional,
// the final ";" optional): S01E05; S01E05-S01E10; S01E05-E10; S01E05-; S02 (all of season 2);
// S01E20-S02E03 (across a season boundary); several joined by ";".

export interface EpisodeNumber {
  season: number;
  episode: number;
}

/** From `from` to `to` inclusive; `to` null = open-ended (later seasons included). */
export interface EpisodeRange {
  from: EpisodeNumber;
  to: EpisodeNumber | null;
}

export class EpisodeFilterError extends Error {}

const MAX = 9999;
const ALL = MAX;

function cmp(a: EpisodeNumber, b: EpisodeNumber): number {
  return a.season - b.season || a.episode - b.episode;
}

function num(s: string, what: string, filter: string): number {
  const n = Number(s);
  if (!/^\d{1,4}$/.test(s)) throw new EpisodeFilterError(`episode filter "${filter}": ${what} "${s}" is not a number of 1-4 digits`);
  return n;
}

/** Parses a filter into ranges; throws EpisodeFilterError naming what is wrong. Empty = no filter. */
export function parseEpisodeFilter(filter: string): EpisodeRange[] {
  const f = filter.trim().replace(/\s+/g, '');
  if (f === '') return [];
  if (f.length > 500) throw new EpisodeFilterError('episode filter is longer than 500 characters');
  const ranges: EpisodeRange[] = [];
  // qBittorrent form: "<season>x<terms>;" where later terms inherit the season.
  const q = /^(\d{1,4})x(.*)$/i.exec(f);
  if (q) {
    const season = num(q[1]!, 'season', filter);
    const terms = q[2]!.split(';');
    if (terms[terms.length - 1] === '') terms.pop();
    if (terms.length === 0) throw new EpisodeFilterError(`episode filter "${filter}": no episode after "${q[1]}x"`);
    for (const term of terms) {
      const m = /^(\d{1,4})(?:(-)(\d{1,4})?)?$/.exec(term);
      if (!m) throw new EpisodeFilterError(`episode filter "${filter}": "${term}" is not N, N-M or N- (as in 1x2;8-15;30-;)`);
      const from = { season, episode: num(m[1]!, 'episode', filter) };
      if (!m[2]) ranges.push({ from, to: from });
      else if (m[3] === undefined) ranges.push({ from, to: null });
      else {
        const to = { season, episode: num(m[3], 'episode', filter) };
        if (cmp(to, from) < 0) throw new EpisodeFilterError(`episode filter "${filter}": range ${term} ends before it starts`);
        ranges.push({ from, to });
      }
    }
    return ranges;
  }
  const terms = f.split(';').filter((t) => t !== '');
  for (const term of terms) {
    // S01E05, S01E05-, S01E05-E10, S01E05-S01E10, S01 (a whole season), S01-S03, S01-.
    const m = /^S(\d{1,4})(?:E(\d{1,4}))?(?:(-)(?:S(\d{1,4}))?(?:E(\d{1,4}))?)?$/i.exec(term);
    if (!m) {
      throw new EpisodeFilterError(
        `episode filter "${filter}": "${term}" is not understood; write 1x5; 1x5-10; 1x5-; or S01E05, S01E05-S01E10, S01E05-, S02`,
      );
    }
    const season = num(m[1]!, 'season', filter);
    const from = { season, episode: m[2] === undefined ? 0 : num(m[2], 'episode', filter) };
    if (!m[3]) {
      ranges.push({ from, to: m[2] === undefined ? { season, episode: ALL } : from });
      continue;
    }
    if (m[4] === undefined && m[5] === undefined) {
      ranges.push({ from, to: null });
      continue;
    }
    const toSeason = m[4] === undefined ? season : num(m[4], 'season', filter);
    const to = { season: toSeason, episode: m[5] === undefined ? ALL : num(m[5], 'episode', filter) };
    if (cmp(to, from) < 0) throw new EpisodeFilterError(`episode filter "${filter}": range ${term} ends before it starts`);
    ranges.push({ from, to });
  }
  return ranges;
}

/**
 * The season and episode a title names ("Show S01E05", "Show.s1.e5", "Show 1x05"), or null. A title
 * naming several ("S01E05E06", "S01E05-E06") gives the first.
 */
export function episodeOf(title: string): EpisodeNumber | null {
  const se = /(?:^|[^a-z0-9])s(\d{1,4})[ ._-]?e(\d{1,4})(?!\d)/i.exec(title);
  if (se) return { season: Number(se[1]), episode: Number(se[2]) };
  const x = /(?:^|[^a-z0-9])(\d{1,4})x(\d{1,4})(?!\d)/i.exec(title);
  if (x) return { season: Number(x[1]), episode: Number(x[2]) };
  return null;
}

/** Whether the title's episode is in one of the ranges (no ranges: every title passes). */
export function matchesEpisodeFilter(ranges: EpisodeRange[], title: string): boolean {
  if (ranges.length === 0) return true;
  const ep = episodeOf(title);
  if (!ep) return false;
  return ranges.some((r) => cmp(ep, r.from) >= 0 && (r.to === null || cmp(ep, r.to) <= 0));
}

/**
 * The key under which the smart episode filter remembers a title: "S01E05" (or a date "2026-11-23"
 * for daily shows), with "-REPACK"/"-PROPER" appended so a fixed release is still taken once.
 * null = the title names no episode (the smart filter then lets it through, as qBittorrent does).
 */
export function episodeKey(title: string): string | null {
  const ep = episodeOf(title);
  let key: string | null = null;
  if (ep) key = `S${String(ep.season).padStart(2, '0')}E${String(ep.episode).padStart(2, '0')}`;
  else {
    const ymd = /(?:^|\D)(\d{4})[.\-](\d{1,2})[.\-](\d{1,2})(?!\d)/.exec(title);
    const dmy = ymd ? null : /(?:^|\D)(\d{1,2})[.\-](\d{1,2})[.\-](\d{4})(?!\d)/.exec(title);
    if (ymd) key = `${ymd[1]}-${ymd[2]!.padStart(2, '0')}-${ymd[3]!.padStart(2, '0')}`;
    else if (dmy) key = `${dmy[3]}-${dmy[2]!.padStart(2, '0')}-${dmy[1]!.padStart(2, '0')}`;
  }
  if (key === null) return null;
  if (/(?:^|[^a-z])repack(?:[^a-z]|$)/i.test(title)) key += '-REPACK';
  else if (/(?:^|[^a-z])proper(?:[^a-z]|$)/i.test(title)) key += '-PROPER';
  return key;
}
