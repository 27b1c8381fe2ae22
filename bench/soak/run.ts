// bench:soak — a month of a node's life, compressed (issue 63): `npm run bench:soak -- --hours H`
// (fractional: --hours 0.1 is six minutes). Prints the table of every measure (warm-up, end,
// slope per hour, per month) and exits non-zero on growth not explained by live data.
//   options: --hours H (default 2), --torrents N (1000), --sample S (seconds between samples, 30),
//            --settle S (seconds without churn before each quiet measurement, 60), --json FILE (samples and verdict),
//            --cluster (three members on a PostgreSQL and a Redis the soak starts: cluster.ts)

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { formatTable } from './report.ts';
import { MEMBERS, runClusterSoak } from './cluster.ts';
import { cleanupActive, runSoak } from './soak.ts';
import type { Sample } from './sample.ts';

const { values } = parseArgs({
  options: { hours: { type: 'string', default: '2' }, torrents: { type: 'string', default: '1000' }, sample: { type: 'string', default: '30' }, settle: { type: 'string', default: '60' }, json: { type: 'string' }, cluster: { type: 'boolean', default: false } },
});
const hours = Number(values.hours);
if (!(hours > 0)) throw new Error(`--hours must be a positive number, not ${values.hours}`);
const seconds = hours * 3600;

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    console.error(`\n${sig}: stopping the node${values.cluster ? 's, PostgreSQL, Redis' : ''} and peers, removing the temp dir`);
    void cleanupActive().then(() => process.exit(130));
  });
}

const f1 = (x: number | undefined) => (x ?? NaN).toFixed(1);
/** One node's figures from a sample; `p` its scope (`m1:`), or none for the single node. */
const nodeLine = (s: Sample, p = '') => {
  const v = (k: string) => s.values[p + k];
  return `rss=${f1(v('rss_mb'))}MB heap=${f1(v('heap_used_mb'))}MB live=${f1(v('heap_live_mb'))}MB code=${f1(v('heap_code_mb'))}MB fds=${v('fds')} sockets=${v('sockets')} handles=${v('handles')} timers=${v('timers')} eldP99=${f1(v('eld_p99_ms'))}ms${p ? '' : ` db=${(v('db_mb') ?? NaN).toFixed(2)}MB`}`;
};
const clusterLine = (s: Sample) =>
  `${MEMBERS.map((m) => `${m} ${nodeLine(s, `${m}:`)}`).join(' | ')} | pg ${f1(s.values['pg:db_mb'])}MB conns=${s.values['pg:connections']} torrents=${s.values['pg:rows.torrents']} holders=${s.values['pg:rows.torrent_holders']} | redis ${f1(s.values['redis:used_memory_mb'])}MB keys=${s.values['redis:keys']} (no ttl ${s.values['redis:keys_no_ttl']}) clients=${s.values['redis:clients']}`;

const started = new Date();
console.log(`soak${values.cluster ? ` (cluster of ${MEMBERS.length})` : ''}: ${hours} h (${seconds.toFixed(0)} s of churn), ${values.torrents} torrents, a sample every ${values.sample} s; started ${started.toISOString()}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${(await import('node:os')).cpus().length} cores (shared machine)`);
const result = await (values.cluster ? runClusterSoak : runSoak)({
  seconds,
  torrents: Number(values.torrents),
  sampleEverySec: Number(values.sample),
  warmupShare: 0.2,
  settleSec: Number(values.settle),
  quietSamples: 3,
  churnEveryMs: 250,
  pollEveryMs: 2_000,
  feedEveryMs: 3_000,
  chatEveryMs: 2_000,
  rssEveryMs: 10_000,
  transferEveryMs: 15_000,
  claimEveryMs: 60_000,
  host: '127.0.0.1',
  log: (l) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${l}`),
  onSample: (s) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s.phase.padEnd(12)} t=${s.t.toFixed(0)}s ${values.cluster ? clusterLine(s) : nodeLine(s)}`),
});
if (interrupted) process.exit(130);

console.log(`\nended ${new Date().toISOString()}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(formatTable(result.verdict));
console.log(`\nevent-loop delay p99: max ${result.verdict.eldMaxMs.toFixed(1)} ms over the samples, their 99th percentile ${result.verdict.eldP99OfSamplesMs.toFixed(1)} ms`);
console.log(`actions: ${JSON.stringify(result.actions)}`);
console.log(`clients: ${JSON.stringify(result.counts)}`);
if (result.verdict.notes.length > 0) console.log(`grew within a documented bound (docs/retention.md):\n  ${result.verdict.notes.join('\n  ')}`);
console.log(`errors: ${result.errors.length}${result.errors.length ? `\n  ${result.errors.slice(0, 30).join('\n  ')}` : ''}`);
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 1));
const failures = [...result.lost, ...result.verdict.failures];
if (failures.length > 0) {
  console.log(`\nFAIL:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('\nPASS: no loss, no unexplained growth');
