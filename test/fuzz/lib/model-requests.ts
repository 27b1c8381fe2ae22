// Requests for the node model's routes (issue 20): settings, categories, tags, PATCH of a torrent
// and the list query, with bodies from good to garbage. Paths given are relative (under the fuzz
// node's download dir) or ones the node must refuse: a fuzz run never moves data or makes folders
// outside its temp dir.

import type { Rng } from './rng.ts';
import type { GenContext } from './target.ts';
import type { ApiRequest } from './api-requests.ts';

const MODEL_TOKENS = ['"downloadLimit"', '"uploadLimit"', '"category"', '"tags"', '"savePath"', '"ratioLimit"', '"publicUrl"', '"altSpeedSchedule"', '"days"', '-1', '1e309', 'null', '..', '/'];

const paths = (rng: Rng) => rng.pick(['sub/dir', 'x', '../x', 'a/../../b', '', ' ', '/proc/nope/x', 'a\u0000b', 'x'.repeat(2000), '/..', 7, null, ['a']]);
const rate = (rng: Rng) => rng.pick([0, 1024, 4 * 1048576, -1, 1.5, 2 ** 60, '100', null, true]);

export function modelRequest(g: GenContext, h: [string, string][], ih: string, json: (v: unknown, tokens: string[]) => string): ApiRequest {
  const { rng } = g;
  const drop = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(() => rng.chance(0.4)));
  const name = rng.pick(['Movies', 'TV', '', ' ', 'a,b', 'x'.repeat(200), '%2e%2e', 'tab\t', '..', 5]);
  const body = (v: unknown) => json(v, MODEL_TOKENS);
  const pick = rng.int(8);
  if (pick === 0) {
    const settings = {
      downloadLimit: rate(rng), uploadLimit: rate(rng), altDownloadLimit: rate(rng), altSpeedEnabled: rng.pick([true, false, 'yes']),
      altSpeedSchedule: rng.pick([{ enabled: true, from: '25:00' }, { days: [0, 7] }, { to: '08:00' }, 'x', null]),
      maxActiveDownloads: rng.pick([0, 3, -1, 1e9, '2']), stalledTimeout: rng.pick([0, 60, -5, 1e12]),
      ratioLimit: rng.pick([null, 1.5, -1, 'x', 1e309]), seedingTimeLimit: rng.pick([null, 60, -1, 0.5]),
      seedingLimitAction: rng.pick(['pause', 'remove', 'x']), downloadDir: paths(rng),
      publicUrl: rng.pick([null, '', 'https://cascade.example.org/', 'ftp://x', 'http://u:p@h', 'not a url', 'http://' + 'a'.repeat(3000)]),
      startPaused: rng.pick([true, 'false']), colour: 'blue',
    };
    return { m: rng.pick(['PATCH', 'PATCH', 'GET', 'PUT']), p: '/api/settings', h, b: body(rng.chance(0.1) ? rng.pick([[], null, 'x', 1]) : drop(settings)) };
  }
  if (pick === 1) return { m: 'POST', p: '/api/categories', h, b: body(drop({ name, savePath: paths(rng), extra: 1 })) };
  if (pick === 2) {
    const n = encodeURIComponent(String(name));
    return { m: rng.pick(['PATCH', 'DELETE']), p: `/api/categories/${rng.chance(0.8) ? n : rng.pick(['%zz', '', '%00', 'a/b'])}`, h, b: body(drop({ savePath: paths(rng), x: 1 })) };
  }
  if (pick === 3 || pick === 4) {
    const patch = {
      downloadLimit: rate(rng), uploadLimit: rate(rng), category: rng.pick([null, 'Movies', 'Nope', '', 7]),
      tags: rng.pick([[], ['a'], ['a,b'], 'a', [1], Array.from({ length: rng.pick([65, 1000]) }, (_, i) => `t${i}`)]),
      ratioLimit: rng.pick([null, -1, 2, -2, 'x']), seedingTimeLimit: rng.pick([null, -1, 60, 1.5]),
      savePath: paths(rng), forceStart: rng.pick([true, false, 'no']), colour: 'red',
    };
    return { m: 'PATCH', p: `/api/torrents/${ih}`, h, b: body(rng.chance(0.1) ? rng.pick([[], null, 'x']) : drop(patch)) };
  }
  if (pick === 5) {
    const q = [
      `category=${rng.pick(['', 'Movies', '%zz', 'x'.repeat(100)])}`, `tag=${rng.pick(['a', ''])}`,
      `state=${rng.pick(['paused', 'active', 'stalled', 'queued', 'x', ''])}`, `tracker=${rng.pick(['127.0.0.1', ''])}`,
      `search=${rng.pick(['a', '%', '_', 'ab'.repeat(200)])}`, `sort=${rng.pick(['name', 'size', 'ratio', 'tags', 'x', '__proto__', 'constructor'])}`,
      `order=${rng.pick(['asc', 'desc', 'up'])}`, `offset=${rng.pick([0, -1, 'x', 1e20])}`, `limit=${rng.pick([1, 0, 100001, 'x'])}`,
    ].filter(() => rng.chance(0.4));
    return { m: 'GET', p: `/api/torrents?${q.join('&')}`, h };
  }
  return { m: rng.pick(['GET', 'POST', 'DELETE']), p: rng.pick(['/api/settings', '/api/categories', '/api/tags']), h };
}
