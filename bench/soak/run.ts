// bench:soak — a month of a node's life, compressed (issue 63): `npm run bench:soak -- --hours H`
// (fractional: --hours 0.1 is six minutes). Prints the table of every measure (warm-up, end,
// slope per hour, per month) and exits non-zero on growth not explained by live data.
//   options: --hours H (default 2), --torrents N (1000), --sample S (seconds between samples, 30),
//            --settle S (seconds without churn before each quiet measurement, 60), --json FILE (samples and verdict)

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { formatTable } from './report.ts';
import { cleanupActive, runSoak } from './soak.ts';

const { values } = parseArgs({
  options: { hours: { type: 'string', default: '2' }, torrents: { type: 'string', default: '1000' }, sample: { type: 'string', default: '30' }, settle: { type: 'string', default: '60' }, json: { type: 'string' } },
});
const hours = Number(values.hours);
if (!(hours > 0)) throw new Error(`--hours must be a positive number, not ${values.hours}`);
const seconds = hours * 3600;

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    console.error(`\n${sig}: stopping the node and peers, removing the temp dir`);
    void cleanupActive().then(() => process.exit(130));
  });
}

const started = new Date();
console.log(`soak: ${hours} h (${seconds.toFixed(0)} s of churn), ${values.torrents} torrents, a sample every ${values.sample} s; started ${started.toISOString()}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${(await import('node:os')).cpus().length} cores (shared machine)`);
const result = await runSoak({
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
  onSample: (s) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s.phase.padEnd(12)} t=${s.t.toFixed(0)}s rss=${s.values.rss_mb!.toFixed(1)}MB heap=${s.values.heap_used_mb!.toFixed(1)}MB fds=${s.values.fds} sockets=${s.values.sockets} handles=${s.values.handles} timers=${s.values.timers} eldP99=${s.values.eld_p99_ms!.toFixed(1)}ms db=${s.values.db_mb!.toFixed(2)}MB`),
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
