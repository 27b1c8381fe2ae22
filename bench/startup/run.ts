// bench:startup — what each command loads before it does its work (issue 64 item 4): modules loaded
// (all, and Cascade's own by package) and milliseconds from process start to the first dial or
// listen (and the CPU used by then), and to the end, for `download`, `seed`, `list` and `serve`, in
// one or more checkouts side by side (the reference: the same commands of another checkout, e.g. a
// worktree of main).
//
//   npm run bench:startup                               # this checkout
//   npm run bench:startup -- --root /work/wt-old --root .   # two checkouts, the first is the reference
//   options: --runs N (default 5; the median is shown), --json FILE
//
// Everything is on 127.0.0.1: a 4 MiB file is seeded by `cascade seed` and fetched by `cascade
// download --peer`; `list` asks a running `serve` over its control endpoint. No DHT, LSD or port mapping.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string', multiple: true }, runs: { type: 'string', default: '5' }, json: { type: 'string' } } });
const roots = (values.root ?? [join(import.meta.dirname, '..', '..')]).map((r) => resolve(r));
const runs = Number(values.runs);
const PROBE = join(import.meta.dirname, 'probe.ts');
const work = mkdtempSync(join(tmpdir(), 'cascade-startup-'));
// Node's compile cache on, as the launcher and the test runner turn it on (a cache of this run's
// own, so the first run of each checkout fills it and the median is of warm starts).
const env = { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off', NODE_COMPILE_CACHE: join(work, 'compile-cache') };

interface Probe { event: string; ms: number; cpuMs: number; modules: number; ownModules: number; byPackage: Record<string, number>; rssMB: number; what?: string }
interface Row { command: string; root: string; firstIo: Probe | undefined; exit: Probe | undefined; ready?: number }

/** Runs a cascade command of `root` with the probe; resolves when `until` sees its output line, or at exit. */
function run(root: string, args: string[], until?: (line: string) => boolean): Promise<{ probes: Probe[]; lines: string[]; readyMs?: number; stop: () => Promise<void> }> {
  const file = join(work, `probe-${randomBytes(4).toString('hex')}.jsonl`);
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', PROBE, join(root, 'packages/cli/src/main.ts'), ...args], { env: { ...env, CASCADE_STARTUP_PROBE: file }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const probes = () => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Probe) : []);
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolveRun, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (until?.(line)) resolveRun({ probes: probes(), lines, readyMs: performance.now() - started, stop });
      }
    });
    child.once('exit', (code) => {
      if (until && code !== 0) reject(new Error(`cascade ${args[0]} exited ${code}: ${stderr.slice(-500)}`));
      else resolveRun({ probes: probes(), lines, stop });
    });
  });
}

const event = (name: string) => (line: string) => line.startsWith('{') && (JSON.parse(line) as { event?: string }).event === name;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function measure(root: string): Promise<Row[]> {
  const dir = join(work, randomBytes(4).toString('hex'));
  const data = join(dir, 'data');
  const payload = join(data, 'payload.bin');
  mkdirSync(dir, { recursive: true });
  await run(root, ['create', join(work, 'payload.bin'), '-o', join(dir, 'p.torrent'), '--json']);
  const rows: Row[] = [];
  for (let i = 0; i < runs; i++) {
    // seed: the payload, verified, then listening; it stays up for the download.
    rmSync(data, { recursive: true, force: true });
    mkdirSync(data, { recursive: true });
    copyFileSync(join(work, 'payload.bin'), payload);
    const seed = await run(root, ['seed', join(dir, 'p.torrent'), '--dir', data, '--port', '0', '--no-dht', '--no-chain', '--json', '--state-dir', join(dir, `seed-${i}`)], event('seeding'));
    const port = seed.lines.map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((e) => e.event === 'listening')?.port as number;
    rows.push({ command: 'seed', root, firstIo: seed.probes.find((p) => p.event === 'first-io'), exit: undefined, ready: seed.readyMs });
    const out = join(dir, `dl-${i}`);
    const dl = await run(root, ['download', join(dir, 'p.torrent'), '-o', out, '--peer', `127.0.0.1:${port}`, '--no-dht', '--no-chain', '--json', '--state-dir', join(dir, `dl-state-${i}`)]);
    rows.push({ command: 'download', root, firstIo: dl.probes.find((p) => p.event === 'first-io'), exit: dl.probes.find((p) => p.event === 'exit') });
    await seed.stop();

    const state = join(dir, `serve-${i}`);
    const serve = await run(root, ['serve', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--no-chain', '--json', '--state-dir', state], event('serving'));
    rows.push({ command: 'serve', root, firstIo: serve.probes.find((p) => p.event === 'first-io'), exit: undefined, ready: serve.readyMs });
    const list = await run(root, ['list', '--json', '--state-dir', state]);
    rows.push({ command: 'list', root, firstIo: list.probes.find((p) => p.event === 'first-io'), exit: list.probes.find((p) => p.event === 'exit') });
    await serve.stop();
  }
  return rows;
}

writeFileSync(join(work, 'payload.bin'), randomBytes(4 << 20));
const all: Row[] = [];
for (const root of roots) all.push(...(await measure(root)));

console.log(`\n${runs} runs each, medians; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log('command   checkout                          modules@first-io (own)   ms@first-io   cpu-ms@first-io   modules@end (own)   ms@end/ready');
const summary: Record<string, unknown>[] = [];
for (const command of ['download', 'seed', 'list', 'serve']) {
  const ref = all.filter((r) => r.command === command && r.root === roots[0]);
  for (const root of roots) {
    const rs = all.filter((r) => r.command === command && r.root === root);
    const m = (f: (r: Row) => number | undefined) => median(rs.map(f).filter((x): x is number => x !== undefined));
    const row = {
      command, root,
      modulesAtFirstIo: m((r) => r.firstIo?.modules), ownAtFirstIo: m((r) => r.firstIo?.ownModules), msAtFirstIo: m((r) => r.firstIo?.ms), cpuMsAtFirstIo: m((r) => r.firstIo?.cpuMs),
      modulesAtEnd: m((r) => r.exit?.modules), ownAtEnd: m((r) => r.exit?.ownModules), msAtEnd: m((r) => r.exit?.ms ?? r.ready),
    };
    const ratio = root === roots[0] ? '' : `  (${(row.msAtFirstIo / median(ref.map((r) => r.firstIo?.ms ?? NaN))).toFixed(2)}x the first checkout's ms@first-io)`;
    console.log(`${command.padEnd(9)} ${root.slice(-32).padEnd(33)} ${String(row.modulesAtFirstIo).padStart(7)} (${row.ownAtFirstIo})`.padEnd(68) +
      `${String(row.msAtFirstIo).padStart(8)}   ${String(row.cpuMsAtFirstIo).padStart(9)}         ${String(row.modulesAtEnd).padStart(9)} (${row.ownAtEnd})`.padEnd(50) + `${String(Math.round(row.msAtEnd))}${ratio}`);
    summary.push(row);
  }
}
const own = (command: string, root: string) => all.find((r) => r.command === command && r.root === root)?.firstIo?.byPackage;
for (const root of roots) console.log(`\n${root}: download's own modules at its first dial, by package: ${JSON.stringify(own('download', root))}`);
if (values.json) writeFileSync(values.json, JSON.stringify(summary, null, 2));
rmSync(work, { recursive: true, force: true });
