// bench/scale (issue 25): what N seeded torrents cost a Cascade node — add rate through the API,
// RSS, idle CPU without and with a page open, the feed's bytes, list speed, `cascade list`, a
// restart — beside transmission-daemon 3.00 with the same torrents, and issue 25's targets.
//
//   npm run bench:scale -- [--torrents 10000] [--root <checkout>] [--no-reference | --no-cascade] [--no-browser]
//                          [--keep] [--idle-seconds 20] [--json out.json]
//
// Run as root, the whole run happens inside a network namespace with only `lo` up (Chromium and both
// clients can reach nothing but 127.0.0.1); otherwise it runs in place without the browser page.
// Exits non-zero only on an error; a missed target is printed as FAIL.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTorrents } from './torrents.ts';
import { children, loadAverage } from './proc.ts';
import { rerunInLoopbackNamespace } from './netns.ts';
import { runCascade, type CascadeFigures } from './cascade-side.ts';
import { runTransmission, TRANSMISSION, type TransmissionFigures } from './transmission.ts';
import { rows, table } from './report.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NETNS_ENV = 'CASCADE_BENCH_SCALE_NETNS';

const { values: argv } = parseArgs({
  options: {
    torrents: { type: 'string', default: '10000' },
    root: { type: 'string', default: REPO },
    'no-reference': { type: 'boolean', default: false },
    'no-cascade': { type: 'boolean', default: false },
    'no-browser': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'idle-seconds': { type: 'string', default: '20' },
    json: { type: 'string' },
  },
});

const n = Number(argv.torrents);
const idleSeconds = Number(argv['idle-seconds']);
const root = resolve(argv.root!);
if (!Number.isInteger(n) || n < 1) usage(`--torrents wants a positive integer, got "${argv.torrents}"`);
if (!(idleSeconds > 0)) usage(`--idle-seconds wants a positive number, got "${argv['idle-seconds']}"`);
if (!existsSync(join(root, 'packages/cli/src/main.ts'))) usage(`--root ${root} is not a Cascade checkout (no packages/cli/src/main.ts)`);

function usage(msg: string): never {
  console.error(`bench/scale: ${msg}`);
  process.exit(2);
}

// Root: run again inside a loopback-only namespace, then remove it.
await rerunInLoopbackNamespace({ envVar: NETNS_ENV, prefix: 'cascade-bench', script: import.meta.filename, fallback: 'bench/scale: cannot create a network namespace; running in place without the browser page' });
const inNamespace = process.env[NETNS_ENV] !== undefined;
const browser = !argv['no-browser'] && inNamespace;
const reference = !argv['no-reference'];
if (argv['no-cascade'] && !reference) usage('--no-cascade and --no-reference leave nothing to measure');
if (reference && !existsSync(TRANSMISSION)) usage(`${TRANSMISSION} is missing (apt-get install transmission-daemon), or pass --no-reference`);

const say = (line: string) => console.log(line);
const commit = (() => {
  try {
    return execFileSync('git', ['-C', root, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim().slice(0, 100);
  } catch {
    return 'unknown';
  }
})();

const workDir = mkdtempSync(join(tmpdir(), 'cascade-bench-scale-'));
// Ctrl-C (or a SIGTERM): stop the node / daemon this run started, remove the temp dir, exit 130.
const interrupted = async (sig: NodeJS.Signals) => {
  console.error(`bench/scale: ${sig}, stopping…`);
  const running = [...children];
  for (const c of running) c.kill('SIGTERM');
  await Promise.race([Promise.all(running.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))))), new Promise((r) => setTimeout(r, 15_000))]);
  for (const c of children) c.kill('SIGKILL');
  if (!argv.keep) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  process.exit(130);
};
process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
let failed = false;
const partial: Partial<CascadeFigures> = {};
try {
  const startLoad = loadAverage();
  const what = argv['no-cascade'] ? 'transmission-daemon only' : `Cascade at ${root} (${commit})`;
  say(`bench/scale: ${n} torrents; ${what}; ${inNamespace ? `network namespace ${process.env[NETNS_ENV]} (lo only)` : 'no namespace'}`);
  say(`load average at start: ${startLoad}; work dir ${workDir}${argv.keep ? ' (kept)' : ''}`);
  const dataDir = join(workDir, 'data');
  const t0 = performance.now();
  const torrents = makeTorrents(n, dataDir, join(workDir, 'torrents'));
  say(`made ${n} torrents of 4 KiB (v1) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  let cascade: CascadeFigures | null = null;
  if (!argv['no-cascade']) cascade = await runCascade({ root, workDir, dataDir, torrents, idleSeconds, browser, say, partial });
  let transmission: TransmissionFigures | null = null;
  if (reference) transmission = await runTransmission({ workDir, dataDir, torrents, idleSeconds, say });

  const rs = rows(n, cascade, transmission);
  const endLoad = loadAverage();
  say('');
  say(`${n} torrents — load average at start ${startLoad}, at end ${endLoad} (2 cores; a loaded machine inflates CPU and times)`);
  say(table(rs));
  const fails = rs.filter((r) => r.verdict === 'FAIL').length;
  if (cascade) say(`${fails === 0 ? 'every target met' : `${fails} target${fails === 1 ? '' : 's'} missed`}${n < 10_000 ? ' (the targets are for 10,000 torrents)' : ''}`);
  if (argv.json) {
    const out = { n, date: new Date().toISOString(), root, commit, namespace: inNamespace, load: { start: startLoad, end: endLoad }, rows: rs, cascade, transmission };
    writeFileSync(argv.json, JSON.stringify(out, null, 2) + '\n');
    say(`results written to ${argv.json}`);
  }
} catch (err) {
  failed = true;
  console.error(`bench/scale: ${(err as Error).stack ?? String(err)}`);
  if (Object.keys(partial).length > 0) {
    console.error(`Cascade's figures before the error: ${JSON.stringify(partial)}`);
    if (argv.json) writeFileSync(argv.json, JSON.stringify({ n, date: new Date().toISOString(), root, commit, error: String(err), cascadePartial: partial }, null, 2) + '\n');
  }
  console.error(`logs: ${join(workDir, 'cascade.log')}, ${join(workDir, 'transmission.log')}${argv.keep ? '' : ' (pass --keep to keep them)'}`);
} finally {
  if (!argv.keep) rmSync(workDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
process.exit(failed ? 1 : 0);
