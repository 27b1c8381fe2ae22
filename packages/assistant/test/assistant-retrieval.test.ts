import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadHelpDir } from '../src/knowledge/kb.ts';
import { createRetriever, stem, tokenize } from '../src/knowledge/retrieval.ts';

const retriever = createRetriever(loadHelpDir(join(import.meta.dirname, 'fixtures', 'help')));
const top = (q: string) => retriever.search(q, 3).map((r) => r.entry.id);

test('the term pipeline: contractions, percentages, slang, stems, stop words', () => {
  assert.deepEqual(tokenize("Won't start, stuck at 0 % — can’t DL"), ['wont', 'start', 'stuck', 'at', '0pct', 'cant', 'dl']);
  assert.deepEqual(['seeding', 'seeds', 'seeded', 'trackers', 'stalled', 'running', 'status', 'entries'].map(stem), ['seed', 'seed', 'seed', 'tracker', 'stall', 'run', 'status', 'entry']);
  assert.deepEqual(retriever.terms('how do I dl this'), ['dl', 'download']);
  assert.deepEqual(retriever.terms('the my is'), []);
});

test('typos, slang and users\' own words find the entry', () => {
  const cases: [string, string][] = [
    ['trakcer torent stallled at 0%', 'stalled-download'],
    ['downlaod is soooo slow', 'slow-download'],
    ['how do i add a magnit link', 'add-magnet'],
    ['forgot my pw', 'change-password'],
    ['ENOSPC', 'disk-full'],
    ['nobody can connect to me', 'port-forwarding'],
    ['how long should i keep seeding', 'seeding'],
    ['peer got banned for corrupt data', 'hash-failures'],
  ];
  for (const [q, id] of cases) assert.equal(top(q)[0], id, `${q} → ${top(q).join(', ')}`);
});

test('scores are descending and a nonsense question finds nothing', () => {
  const r = retriever.search('download stuck slow', 5);
  assert.ok(r.length >= 2);
  for (let i = 1; i < r.length; i++) assert.ok(r[i - 1]!.score >= r[i]!.score);
  assert.deepEqual(retriever.search('zzqx wvvb', 5), []);
});
