// npm run bench:crash -- --kills 200 [--chain] [--no-private-moves] [--rate BYTES_PER_S] [--payload BYTES]
// npm run bench:crash -- --cluster --kills 200 [--torrents N (the pool; the library holds half)]
// A `cascade serve` node killed with SIGKILL at random instants of a churn (adds, downloads from a
// rate-capped libtorrent seed, moves, renames, rechecks, pauses, removes, settings, private-share
// decryption; registrations on the embedded chain with --chain), restarted and checked each time
// (crash.ts, checks.ts). Prints each kill (what was in flight, what was checked) and a summary;
// exits 1 when a check failed.

import { parseArgs } from 'node:util';
import { crashRun } from './crash.ts';
import { clusterCrashRun } from './cluster.ts';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '200' },
    rate: { type: 'string', default: String(768 * 1024) },
    payload: { type: 'string', default: String(2 * 1024 * 1024) },
    torrents: { type: 'string', default: '40' },
    private: { type: 'string', default: '8' },
    chain: { type: 'boolean', default: false },
    'no-private-moves': { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
  },
});

// Ctrl-C or a kill: exit through 'exit', where the rig removes its node, seeder and files.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

const t0 = performance.now();
const report = values.cluster
  ? await clusterCrashRun({
      kills: Number(values.kills),
      payloads: Number(values.torrents),
      library: Math.ceil(Number(values.torrents) / 2),
      payloadBytes: Number(values.payload),
      rate: Number(values.rate),
      churnMs: [1000, 6000],
      startKills: 0.1,
      secondKills: 0.25,
      convergeMs: 300_000,
      log: (line) => console.log(line),
    })
  : await crashRun({
  kills: Number(values.kills),
  publicTorrents: Number(values.torrents),
  privateShares: Number(values.private),
  payloadBytes: Number(values.payload),
  rate: Number(values.rate),
  churnMs: [300, 4000],
  startKills: 0.1,
  chain: values.chain,
  privateMoves: !values['no-private-moves'],
  log: (line) => console.log(line),
});

const inFlight = new Map<string, number>();
for (const k of report.kills) {
  // A cluster's records name the member first ('m2 down 7.1 s', 'm3 killed …'): counted as what they were.
  const ops = new Set(k.inFlight.map((f) => (/^m\d+ down (\d+\.\d)/.exec(f) ? (Number(/down (\d+\.\d)/.exec(f)![1]) > 6 ? 'member declared dead (repair)' : 'member back within its lease') : / killed /.test(f) ? 'second member killed' : f.split(' ')[0]!)));
  if (k.downloading > 0) ops.add('download');
  if (k.inFlight.length === 0 && k.downloading === 0) ops.add('idle');
  for (const op of ops) inFlight.set(op, (inFlight.get(op) ?? 0) + 1);
}
const checks = new Map<string, [number, number]>();
for (const k of report.kills) for (const f of k.findings) {
  const c = checks.get(f.check) ?? [0, 0];
  c[f.ok ? 0 : 1]++;
  checks.set(f.check, c);
}
const starts = report.kills.map((k) => k.restartMs).sort((a, b) => a - b);
console.log(`\n${report.kills.length} kills in ${((performance.now() - t0) / 60_000).toFixed(1)} min`);
console.log(`kills with each operation in flight: ${[...inFlight].map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`operations acknowledged: ${Object.entries(report.ops).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`restart: median ${(starts[starts.length >> 1]! / 1000).toFixed(1)} s, max ${(starts.at(-1)! / 1000).toFixed(1)} s (first start ${(report.baselineStartMs / 1000).toFixed(1)} s, limit ${(report.startLimitMs / 1000).toFixed(1)} s)`);
console.log('checks (passed / failed):');
for (const [check, [ok, bad]] of checks) console.log(`  ${check.padEnd(32)} ${ok} / ${bad}`);
if (report.failures.length) {
  console.log(`\n${report.failures.length} failures:`);
  for (const f of report.failures) console.log(`  ${f}`);
  process.exitCode = 1;
}
