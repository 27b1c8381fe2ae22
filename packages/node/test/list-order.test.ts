// Sorting list rows by name (list-query.ts): names ranked ahead of a request (primeNameOrder, which
// the summary cache runs at a quiet moment after the library grew) give the same order as ranking
// them during the request, and names added after the priming still land in their place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { primeNameOrder, queryEntries } from '../src/listing/list-query.ts';
import type { ListEntry } from '@cascade/shapes';

const row = (i: number, name: string): ListEntry => ({ infoHash: i.toString(16).padStart(40, '0'), name }) as ListEntry;

test('names ranked ahead of a request sort as ranked during it, and later names find their place', () => {
  const names = ['file 10', 'File 2', 'ähnlich', 'Zeta', 'alpha', 'file 1', 'beta', 'Beta'];
  const rows = Array.from({ length: 300 }, (_, i) => row(i, `${names[i % names.length]} ${i % 7}`));
  const expected = rows.slice().sort((a, b) => new Intl.Collator(undefined, { sensitivity: 'base', numeric: true }).compare(a.name!, b.name!) || (a.infoHash < b.infoHash ? -1 : 1));
  primeNameOrder(rows);
  assert.deepEqual(queryEntries(rows, { sort: 'name' }).torrents.map((e) => e.infoHash), expected.map((e) => e.infoHash));
  // A few new names after the priming: each is put in its place.
  const more = [...rows, row(1000, 'aaa first'), row(1001, 'zzz last'), row(1002, 'file 3 0')];
  const sorted = queryEntries(more, { sort: 'name', order: 'desc' }).torrents.map((e) => e.name);
  assert.equal(sorted[0], 'zzz last');
  assert.equal(sorted.at(-1), 'aaa first');
  assert.ok(sorted.indexOf('file 3 0') < sorted.indexOf('File 2 0') && sorted.indexOf('file 3 0') > sorted.indexOf('file 10 0'), sorted.join(' | '));
});
