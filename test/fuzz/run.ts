// `npm run fuzz -- [--minutes N] [--inputs N] [--target a,b] [--seed N] [--jobs N] [--json]`
// Runs each target in a worker thread (two at a time by default), watches for hangs and crashes,
// saves every finding to test/fuzz/corpus/<target>/ and prints a table. Exit 1 if anything was found.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { randomInt } from 'node:crypto';
import { TARGETS } from './targets/index.ts';
import { Rng } from './lib/rng.ts';
import { saveEntry } from './lib/corpus.ts';
import { HEADER_BYTES, MAX_SAB_INPUT, SLOT, type WorkerInput } from './lib/sab.ts';

interface Args { minutes?: number; inputs?: number; targets: string[]; seed: number; jobs: number; json: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { targets: TARGETS.map((t) => t.name), seed: randomInt(2 ** 31), jobs: Math.min(2, availableParallelism()), json: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const val = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    const num = () => {
      const n = Number(val());
      return Number.isFinite(n) && n >= 0 ? n : usage(`${flag} needs a non-negative number`);
    };
    if (flag === '--minutes') a.minutes = num();
    else if (flag === '--inputs') a.inputs = Math.floor(num());
    else if (flag === '--seed') a.seed = Math.floor(num()) >>> 0;
    else if (flag === '--jobs') a.jobs = Math.max(1, Math.floor(num()));
    else if (flag === '--json') a.json = true;
    else if (flag === '--target' || flag === '--targets') {
      a.targets = val().split(',').filter(Boolean);
      for (const t of a.targets) if (!TARGETS.some((x) => x.name === t)) usage(`unknown target "${t}"`);
    } else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown option ${flag}`);
  }
  // A time budget alone means "run that long"; otherwise a million inputs.
  if (a.inputs === undefined && a.minutes === undefined) a.inputs = 1_000_000;
  return a;
}

function usage(err?: string): never {
  if (err) console.error(`fuzz: ${err}`);
  console.error('usage: node test/fuzz/run.ts [--minutes N] [--inputs N] [--target name[,name]] [--seed N] [--jobs N] [--json]');
  console.error(`targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(err ? 2 : 0);
}

interface Row { target: string; inputs: number; accepted: number; rejected: number; findings: number; distinct: number; ms: number; restarts: number }
interface Found { target: string; why: string; file: string; bytes: number }

const args = parseArgs(process.argv.slice(2));
const chosen = TARGETS.filter((t) => args.targets.includes(t.name));
const weightSum = chosen.reduce((n, t) => n + t.weight, 0);
const log = (s: string) => (args.json ? process.stderr.write(`${s}\n`) : console.log(s));
const startedAt = Date.now();
const rows: Row[] = [];
const found: Found[] = [];
const harnessErrors: string[] = [];

log(`fuzz: seed ${args.seed}, ${args.inputs !== undefined ? `${args.inputs.toLocaleString('en-US')} inputs` : 'no input cap'}` +
  `${args.minutes !== undefined ? `, ${args.minutes} min` : ''}, ${chosen.length} target(s), ${args.jobs} at a time`);

function runTarget(name: string, share: number): Promise<Row> {
  const row: Row = { target: name, inputs: 0, accepted: 0, rejected: 0, findings: 0, distinct: 0, ms: 0, restarts: 0 };
  const budget = args.inputs === undefined ? Number.MAX_SAFE_INTEGER : Math.max(1, Math.round(args.inputs * share));
  // Parallel workers share the wall clock: each target gets its share of jobs × minutes, at most all of it.
  const wallMs = args.minutes === undefined ? Infinity : args.minutes * 60_000;
  const deadline = Math.min(Date.now() + Math.min(wallMs, wallMs * args.jobs * share), startedAt + wallMs);
  const ext = TARGETS.find((t) => t.name === name)!.ext;

  const perSig = new Map<string, number>();
  /** `counted`: found here (hang, crash); the worker counts its own findings. */
  const save = (why: string, sig: string, input: Uint8Array, extra: string, counted: boolean) => {
    if (counted) row.findings++;
    const seen = perSig.get(sig) ?? 0;
    perSig.set(sig, seen + 1);
    if (seen === 0) row.distinct++;
    if (seen >= 3) return; // enough examples of one kind, across restarts too
    const note = `${why}\nfound by: node test/fuzz/run.ts --target ${name} --seed ${args.seed}${extra}\n${new Date().toISOString()}`;
    const file = saveEntry(name, ext, input, note);
    found.push({ target: name, why, file, bytes: input.length });
    log(`  ! ${name}: ${why.slice(0, 200)}\n    saved ${file.replace(process.cwd() + '/', '')} (${input.length} bytes)`);
  };

  return new Promise((resolve) => {
    const attempt = (restart: number) => {
      const sab = new SharedArrayBuffer(HEADER_BYTES + MAX_SAB_INPUT);
      const head = new Int32Array(sab, 0, HEADER_BYTES / 4);
      const base = { ...row };
      const data: WorkerInput = { target: name, seed: Rng.derive(args.seed + restart * 7919, name), inputs: budget - row.inputs, deadline, sab };
      const w = new Worker(new URL('./worker.ts', import.meta.url), { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
      let hangMs = 60_000; // setup: servers starting
      let lastCount = 0;
      let lastChange = Date.now();
      let readyAt = 0;
      let doneAt = 0;
      let finished = false;
      // Counts live in shared memory, so they survive a worker that had to be killed.
      const sync = () => {
        row.inputs = base.inputs + head[SLOT.inputs]!;
        row.accepted = base.accepted + head[SLOT.accepted]!;
        row.rejected = base.rejected + head[SLOT.rejected]!;
        row.findings = Math.max(row.findings, base.findings + head[SLOT.findings]!);
        row.ms = base.ms + (readyAt ? (doneAt || Date.now()) - readyAt : 0);
      };
      const end = (why?: string, harness = false) => {
        if (finished) return;
        finished = true;
        clearInterval(watch);
        sync();
        void w.terminate();
        if (harness) {
          // A bug in the fuzzer itself: say so, but keep it out of the corpus.
          harnessErrors.push(`${name}: ${why}`);
          log(`  !! ${name}: fuzz harness error: ${why}`);
        } else if (why !== undefined) {
          const input = new Uint8Array(sab, HEADER_BYTES, head[SLOT.length]!).slice();
          save(why, why.replace(/\d+/g, 'N'), doneAt ? new Uint8Array(0) : input, head[SLOT.truncated] ? ' (input cut to 8 MiB)' : '', true);
          if (!doneAt && restart < 3 && row.inputs < budget && Date.now() < deadline) {
            row.restarts++;
            return attempt(restart + 1);
          }
        }
        resolve(row);
      };
      const watch = setInterval(() => {
        const n = head[SLOT.beat]!;
        if (n !== lastCount) [lastCount, lastChange] = [n, Date.now()];
        else if (Date.now() - lastChange > hangMs) end(doneAt ? 'teardown did not finish (servers not closing)' : `hang: no progress for ${Math.round(hangMs / 1000)} s`);
      }, 500);
      w.on('message', (m: { type: string; [k: string]: any }) => {
        if (m.type === 'ready') [hangMs, lastChange, readyAt] = [m.hangMs, Date.now(), Date.now()];
        else if (m.type === 'done') [doneAt, lastChange, hangMs] = [Date.now(), Date.now(), 30_000];
        else if (m.type === 'closed') end();
        else if (m.type === 'finding') {
          const shrunk = m.originalLength !== m.input.length ? ` (minimized from ${m.originalLength} bytes)` : '';
          save(m.why, m.sig, m.input as Uint8Array, shrunk, false);
        }
        else if (m.type === 'fatal') end(m.message, true);
      });
      w.on('error', (err) => end(`crash: ${err.name}: ${err.message}`));
      w.on('exit', (code) => end(code === 0 ? undefined : `crash: worker exited with code ${code}`));
    };
    attempt(0);
  });
}

// Slow, network-bound targets first so the two job slots finish together.
const queue = [...chosen].sort((a, b) => Number(b.name.includes('-') || b.name === 'api') - Number(a.name.includes('-') || a.name === 'api'));
await Promise.all(
  Array.from({ length: Math.min(args.jobs, queue.length) }, async () => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const row = await runTarget(t.name, t.weight / weightSum);
      rows.push(row);
      log(`  ${row.target}: ${row.inputs.toLocaleString('en-US')} inputs, ${row.findings} finding(s)`);
    }
  }),
);

rows.sort((a, b) => TARGETS.findIndex((t) => t.name === a.target) - TARGETS.findIndex((t) => t.name === b.target));
const total: Row = { target: 'total', inputs: 0, accepted: 0, rejected: 0, findings: 0, distinct: 0, ms: 0, restarts: 0 };
for (const r of rows) for (const k of ['inputs', 'accepted', 'rejected', 'findings', 'distinct', 'ms', 'restarts'] as const) total[k] += r[k];
const wallMs = Date.now() - startedAt;

if (args.json) {
  console.log(JSON.stringify({ seed: args.seed, wallSeconds: wallMs / 1000, jobs: args.jobs, targets: rows, total, findings: found, harnessErrors }, null, 2));
} else {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const head = ['target', 'inputs', 'accepted', 'clean errors', 'findings', 'inputs/s', 'seconds'];
  const line = (r: Row, rate: number) => {
    const findings = r.findings ? `${fmt(r.findings)} (${r.distinct} kinds)` : '0';
    return [r.target, fmt(r.inputs), fmt(r.accepted), fmt(r.rejected), findings, fmt(Math.round(rate)), (r.ms / 1000).toFixed(1)];
  };
  const table = [head, ...rows.map((r) => line(r, r.inputs / (r.ms / 1000 || 1))), line(total, total.inputs / (wallMs / 1000))];
  table[table.length - 1]![6] = `${(wallMs / 1000).toFixed(1)} wall`;
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const print = (r: string[]) => console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log('');
  table.forEach((r, i) => {
    if (i === table.length - 1) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    print(r);
  });
  console.log(`\nseed ${args.seed}; ${found.length ? `${found.length} finding(s) saved under test/fuzz/corpus/` : 'no findings'}`);
}
for (const e of harnessErrors) console.error(`fuzz harness error: ${e}`);
process.exit(total.findings > 0 || harnessErrors.length > 0 ? 1 : 0);
