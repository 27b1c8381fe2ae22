// Rule matching: qBittorrent's episode filter forms, the S/E spelling, wildcards and "|"
// alternatives, regular expressions (errors reported, catastrophic ones stopped by the budget),
// must-not-contain, and the smart filter's episode keys.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEpisodeFilter, matchesEpisodeFilter, episodeOf, episodeKey } from '../src/episode.ts';
import { compileFilter, matchTitles, MatchTimeout, RuleFieldError } from '../src/match.ts';

const ep = (filter: string, title: string) => matchesEpisodeFilter(parseEpisodeFilter(filter), title);
const rule = (f: Partial<{ mustContain: string; mustNotContain: string; useRegex: boolean; episodeFilter: string }>) =>
  compileFilter({ mustContain: '', mustNotContain: '', useRegex: false, episodeFilter: '', ...f });
const one = (f: Parameters<typeof rule>[0], title: string) => matchTitles(rule(f), [title])[0];

test('episodeOf reads S01E05, s1.e5, 1x05 and gives null for none', () => {
  assert.deepEqual(episodeOf('Show.S01E05.1080p'), { season: 1, episode: 5 });
  assert.deepEqual(episodeOf('show s1.e5 720p'), { season: 1, episode: 5 });
  assert.deepEqual(episodeOf('Show - 2x10 - Title'), { season: 2, episode: 10 });
  assert.deepEqual(episodeOf('Show S01E05E06'), { season: 1, episode: 5 });
  assert.equal(episodeOf('Show 1920x1080 sample')?.season, 1920); // what qBittorrent also reads
  assert.equal(episodeOf('Movie 2024 1080p'), null);
});

test('qBittorrent episode filter: single, range, open-ended, several', () => {
  assert.equal(ep('1x25;', 'Show S01E25 720p'), true);
  assert.equal(ep('1x25;', 'Show S01E24 720p'), false);
  assert.equal(ep('1x25;', 'Show S02E25 720p'), false);
  assert.equal(ep('1x25-40;', 'Show S01E30'), true);
  assert.equal(ep('1x25-40;', 'Show S01E41'), false);
  assert.equal(ep('1x25-40;', 'Show S01E24'), false);
  // Open-ended: that episode on, and every later season.
  assert.equal(ep('1x25-;', 'Show S01E99'), true);
  assert.equal(ep('1x25-;', 'Show S03E01'), true);
  assert.equal(ep('1x25-;', 'Show S01E24'), false);
  // 1x2;8-15;5;30-; → 2, 5, 8..15, 30 on (season 1)
  const f = '1x2;8-15;5;30-;';
  for (const e of [2, 5, 8, 12, 15, 30, 31]) assert.equal(ep(f, `Show S01E${String(e).padStart(2, '0')}`), true, `episode ${e}`);
  for (const e of [1, 3, 4, 6, 7, 16, 29]) assert.equal(ep(f, `Show S01E${String(e).padStart(2, '0')}`), false, `episode ${e}`);
  assert.equal(ep('1x05;', 'Show 1x05'), true);
  assert.equal(ep('', 'anything at all'), true);
  assert.equal(ep('1x5;', 'no episode in this title'), false);
});

test('S/E spelling: S01E05, S01E05-S01E10, S01E05-E10, S01E05-, S02, across seasons', () => {
  assert.equal(ep('S01E05', 'Show S01E05'), true);
  assert.equal(ep('S01E05', 'Show S01E06'), false);
  assert.equal(ep('S01E05-S01E10', 'Show S01E10'), true);
  assert.equal(ep('S01E05-S01E10', 'Show S01E11'), false);
  assert.equal(ep('S01E05-S01E10', 'Show S01E04'), false);
  assert.equal(ep('S01E05-E10;', 'Show S01E07'), true);
  assert.equal(ep('S01E05-', 'Show S04E01'), true);
  assert.equal(ep('S01E05-', 'Show S01E04'), false);
  assert.equal(ep('S02', 'Show S02E17'), true);
  assert.equal(ep('S02', 'Show S03E01'), false);
  assert.equal(ep('S01E20-S02E03', 'Show S02E02'), true);
  assert.equal(ep('S01E20-S02E03', 'Show S02E04'), false);
  assert.equal(ep('S01E01;S03E01-', 'Show S02E01'), false);
  assert.equal(ep('S01E01;S03E01-', 'Show S03E07'), true);
});

test('bad episode filters say what is wrong', () => {
  for (const bad of ['1x', '1xabc;', '1x10-5;', 'S01E10-S01E05', 'episode five', '12345x1;']) {
    assert.throws(() => parseEpisodeFilter(bad), /episode filter/, bad);
  }
  assert.throws(() => rule({ episodeFilter: '1x10-5;' }), (err: unknown) => err instanceof RuleFieldError && err.field === 'episodeFilter');
});

test('words: every word in any order, case-insensitive, wildcards, "|" alternatives', () => {
  assert.equal(one({ mustContain: 'show 1080p' }, 'My.SHOW.S01E01.1080p.WEB'), true);
  assert.equal(one({ mustContain: '1080p show' }, 'My.Show.S01E01.1080p'), true);
  assert.equal(one({ mustContain: 'show 720p' }, 'My.Show.S01E01.1080p'), false);
  assert.equal(one({ mustContain: 'my*1080p' }, 'My.Show.S01E01.1080p'), true);
  assert.equal(one({ mustContain: 'S0?E01' }, 'My.Show.S01E01'), true);
  assert.equal(one({ mustContain: 'x265|720p' }, 'My.Show.S01E01.720p'), true);
  assert.equal(one({ mustContain: 'x265 1080p|720p' }, 'My.Show.S01E01.1080p.x264'), false);
  // Regex characters in plain words are literal.
  assert.equal(one({ mustContain: 'a.b' }, 'axb'), false);
  assert.equal(one({ mustContain: '(2024)' }, 'Film (2024)'), true);
});

test('must not contain rejects when any alternative matches', () => {
  const f = { mustContain: 'show', mustNotContain: 'cam|hdts sample' };
  assert.equal(one(f, 'Show S01E01 1080p'), true);
  assert.equal(one(f, 'Show S01E01 CAM'), false);
  assert.equal(one(f, 'Show S01E01 HDTS'), true); // "hdts sample" needs both words
  assert.equal(one(f, 'Show S01E01 HDTS sample'), false);
});

test('regex mode: one expression per field, errors reported by field', () => {
  assert.equal(one({ useRegex: true, mustContain: '^my\\.show\\.s01e0[1-5]' }, 'My.Show.S01E03.1080p'), true);
  assert.equal(one({ useRegex: true, mustContain: '^my\\.show\\.s01e0[1-5]' }, 'My.Show.S01E06.1080p'), false);
  assert.equal(one({ useRegex: true, mustContain: 'show', mustNotContain: '\\b(cam|ts)\\b' }, 'Show TS'), false);
  assert.throws(
    () => rule({ useRegex: true, mustContain: 'show(' }),
    (err: unknown) => err instanceof RuleFieldError && err.field === 'mustContain' && /invalid regular expression/.test(err.message),
  );
  assert.throws(() => rule({ useRegex: true, mustNotContain: '[z-a]' }), (err: unknown) => err instanceof RuleFieldError && err.field === 'mustNotContain');
  assert.throws(() => rule({ useRegex: true, mustContain: 'a'.repeat(501) }), /longer than 500/);
});

test('a catastrophic regex is stopped by the time budget, and the matcher still works after', () => {
  const evil = rule({ useRegex: true, mustContain: '^(a+)+$' });
  const t0 = Date.now();
  assert.throws(() => matchTitles(evil, ['a'.repeat(40) + '!'], 100), MatchTimeout);
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(matchTitles(evil, ['aaaa']), [true]);
});

test('episode filter applies after the words', () => {
  const f = rule({ mustContain: 'show', episodeFilter: '1x2-3;' });
  assert.deepEqual(matchTitles(f, ['Show S01E01', 'Show S01E02', 'Other S01E02', 'Show S01E03']), [false, true, false, true]);
});

test('smart filter keys: SxxEyy, dates, repack/proper told apart', () => {
  assert.equal(episodeKey('Show.S1E5.720p'), 'S01E05');
  assert.equal(episodeKey('Show 1x05 1080p'), 'S01E05');
  assert.equal(episodeKey('Show.S01E05.REPACK.720p'), 'S01E05-REPACK');
  assert.equal(episodeKey('Show.S01E05.PROPER'), 'S01E05-PROPER');
  assert.equal(episodeKey('Daily Show 2026.11.23 720p'), '2026-11-23');
  assert.equal(episodeKey('Daily Show 23-11-2026'), '2026-11-23');
  assert.equal(episodeKey('A Film 1080p'), null);
});
