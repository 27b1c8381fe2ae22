// `npm test`: makes sure the real BitTorrent clients the interop tests drive are installed
// (installing them with apt-get when running as root) and node-llama-cpp's CPU build for the
// --llm-gguf tests (`npm run install:llm`), then runs every test file with node:test.
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { isBrowserFile, occupancy, readCosts, runPool, tapCounts, type FileResult } from './test-pool.ts';
import { missingPackagesAsync } from './system-packages.ts';
import { installLlm } from './install-llm.ts';
import { ALL_TESTS, changedFiles, testFilesUnder, testsForChange } from './changed-tests.ts';

const WATCHDOG = join(import.meta.dirname, 'test-watchdog.ts');
const LOCAL_DURATIONS = join(import.meta.dirname, '..', '.cache', 'test-durations.tsv');

// What to run is settled first: a wrong folder is a usage error before anything is installed.
const files = chooseFiles(process.argv.slice(2));

const missing = await missingPackagesAsync();
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`missing system packages: ${missing.join(' ')} — install them (apt-get install ${missing.join(' ')}) or run as root`);
    process.exit(1);
  }
  console.log(`installing ${missing.join(' ')} …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const still = await missingPackagesAsync();
  if (still.length > 0) {
    console.error(`installed, but still not working: ${still.join(' ')} (see scripts/system-packages.ts for each probe)`);
    process.exit(1);
  }
}

// Once, here: test files run side by side and two npm installs into one folder would collide.
try {
  installLlm(undefined, (line) => console.log(line));
} catch (err) {
  console.error(`cannot install node-llama-cpp for the --llm-gguf tests: ${(err as Error).message}`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'cascade-test-run-'));
// How many files run at once is set by their cost (scripts/test-pool.ts): at most CPU_BUDGET cores'
// worth of files by their figures from the last full run, at least two and at most MAX_FILES files,
// at most BROWSER_FILES Chromium files. Plain and browser files share the pool (browser files each
// in the loopback-only namespace), so a waiting browser file no longer holds the cores idle.
const CPU_BUDGET = Number(process.env['CASCADE_TEST_CPU_BUDGET'] ?? (availableParallelism() * 0.9).toFixed(2));
const MAX_FILES = Number(process.env['CASCADE_TEST_CONCURRENCY'] ?? 6);
const BROWSER_FILES = Number(process.env['CASCADE_TEST_BROWSER_CONCURRENCY'] ?? 2);
// The longest file takes ~4 minutes here; one still running after 12 has hung where no test timeout
// reaches (an after hook), and fails then, instead of holding the run until CI's 90-minute limit.
const FILE_LIMIT_MS = Number(process.env['CASCADE_TEST_FILE_LIMIT_MS'] ?? 12 * 60_000);
const nodeTest = (file: string, tap: string) => [
  // --test-force-exit: a file whose tests have all ended exits even if a native handle is left
  // open (node-datachannel keeps an unclosed peer connection's callbacks referenced): it once held
  // packages/engine/test/webrtc-rejoin.test.ts, every test passed, for 12 minutes and counting.
  process.execPath, '--test', '--test-timeout=180000', '--test-force-exit', `--import=${WATCHDOG}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  file,
];
// No test may send UPnP, NAT-PMP, PCP or SSDP to this machine's network: every `cascade serve` a test
// starts (and their children) maps no port. The port-mapping lab tests run theirs inside namespaces
// they build and set their own value there.
process.env.CASCADE_PORT_MAPPING = 'off';
// Nor does any multicast BEP 14 local service discovery onto this machine's LAN: the LSD lab test
// sets CASCADE_LSD=on only for the nodes it starts inside its own namespaces.
process.env.CASCADE_LSD = 'off';
// Node's compile cache for every process of the run — the test files and the hundreds of `cascade`
// processes they start as `node packages/cli/src/main.ts` (bin/cascade.js turns it on for a user's
// commands; started by path, the CLI would strip and compile its TypeScript again each time): a
// `cascade list` costs 0.27 CPU-s instead of 0.72, importing the HTTP face 0.9 instead of 1.9. Node
// checks each entry against its source, so an edited file is compiled afresh.
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'cascade-test-compile-cache');
const timesList = join(work, 'times');
// Each file's CPU from its cgroup (scripts/test-pool.ts): every process it started, the ones it did
// not wait for too. Where there is none, the file's own figure from the watchdog stands.
const groupCpu = new Map<string, number>();
// Files that exited non-zero, a test of theirs failed or not (killed, or failed outside any test).
const failedFiles: FileResult[] = [];
const env = { ...process.env, CASCADE_TEST_TIMES: timesList };

// A file killed by a signal fails as a whole, with no test named (its output dies with it); when the
// kernel's OOM killer did it, its counter says so, which the run's own output otherwise never does.
const oomKillsBefore = oomKills();
const runStarted = Date.now();
const status = await runAll(files);
printSlowest(25);
// CI shows only the end of what a run prints: the failures of both runs are named again here, last.
if (status !== 0) printFailures();
const oomKillsDuring = oomKills() - oomKillsBefore;
if (oomKillsDuring > 0) console.log(`\nthe kernel's OOM killer killed ${oomKillsDuring} process(es) during this run (/proc/vmstat oom_kill): a file failed with signal SIGKILL was one of them, or starved beside one`);
rmSync(work, { recursive: true, force: true });
process.exit(status);

/**
 * What to run: every test file; or those given (a file, a package's folder — `npm test --
 * packages/engine` — or a folder of test/); or with --changed [BASE] (`npm run test:changed`) the
 * tests of the packages a change touches and of every package above them (scripts/changed-tests.ts).
 */
function chooseFiles(args: string[]): string[] {
  if (args[0] === '--changed') {
    const { base, files: changed } = changedFiles(args[1]);
    const { packages, tests, everything } = testsForChange(changed);
    console.log(`changed against ${base}: ${changed.length} file(s); ` +
      (everything ? 'a file every test stands on changed: the whole suite' : `packages ${packages.join(', ') || '(none)'}: ${tests.length} test file(s)`));
    if (tests.length === 0) process.exit(0);
    return tests;
  }
  if (args.length === 0) return globSync(ALL_TESTS).sort();
  return args.flatMap((a) => {
    const found = testFilesUnder(a);
    if (found.length === 0) {
      console.error(`no test files in ${a}`);
      process.exit(2);
    }
    return found;
  });
}

/**
 * Runs the files; when the only failures are files the watchdog killed (scripts/test-watchdog.ts:
 * their event loop stood still, which no test timeout can end), runs those once more, alone.
 * Resolves with the exit status.
 */
async function runAll(list: string[]): Promise<number> {
  const hungList = join(work, 'hung');
  const ns = list.some(isBrowserFile) ? browserNamespace() : null;
  if (ns === '') return 1;
  try {
    const pool = (files: string[], dir: string, max: number) => {
      mkdirSync(join(work, dir), { recursive: true });
      return runPool(files, {
        command: (file, tap) => (isBrowserFile(file) ? ['ip', 'netns', 'exec', ns!, ...nodeTest(file, tap)] : nodeTest(file, tap)),
        tapDir: join(work, dir),
        costs: readCosts([join(import.meta.dirname, 'test-durations.tsv'), LOCAL_DURATIONS]),
        cpuBudget: CPU_BUDGET, minRunning: Math.min(2, max), maxRunning: max, maxBrowsers: BROWSER_FILES, measureLoad: true, fileLimitMs: FILE_LIMIT_MS,
        env: { ...env, CASCADE_TEST_HUNG_LIST: hungList },
      });
    };
    console.log(`${list.length} test files, up to ${MAX_FILES} at once within ${CPU_BUDGET} cores by their last figures`);
    const busyBefore = cpuTimes();
    const results = await pool(list, 'run', MAX_FILES);
    noteCpu(results);
    printOccupancy(results, busyBefore);
    failedFiles.push(...results.filter((r) => r.status !== 0));
    printCounts(results);
    const failed = results.filter((r) => r.status !== 0).map((r) => r.file);
    if (failed.length === 0) return 0;
    const hung = new Set(readLines(hungList));
    rmSync(hungList, { force: true });
    if (!failed.every((f) => hung.has(f) || hung.has(join(process.cwd(), f)))) return 1;
    console.log(`\n${failed.join(', ')}: killed by the watchdog (its event loop stood still); running ${failed.length === 1 ? 'it' : 'them'} once more, alone`);
    const again = await pool(failed, 'again', 1);
    noteCpu(again);
    failedFiles.push(...again.filter((r) => r.status !== 0));
    printCounts(again);
    return again.every((r) => r.status === 0) ? 0 : 1;
  } finally {
    if (ns) spawnSync('ip', ['netns', 'del', ns], { stdio: 'inherit' });
  }
}

/** The machine's CPU ticks so far: [busy, total] over every core (/proc/stat), undefined elsewhere. */
function cpuTimes(): [number, number] | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3]! - (f[4] ?? 0), total];
}

/** Whether the run was limited by the machine or by how many files the pool let run: files at once,
 *  and how busy the cores were (everything on the machine, this run's files and anything else). */
function printOccupancy(results: FileResult[], before: [number, number] | undefined): void {
  const o = occupancy(results);
  const after = cpuTimes();
  const cores = availableParallelism();
  const busy = before && after && after[1] > before[1] ? (after[0] - before[0]) / (after[1] - before[1]) : undefined;
  console.log(`\npool: ${o.meanFiles.toFixed(1)} files at once on average over ${(o.spanMs / 1000).toFixed(0)} s, fewer than two for ${(o.underTwoMs / 1000).toFixed(0)} s;` +
    (busy === undefined ? '' : ` the machine's ${cores} cores ${(busy * 100).toFixed(0)}% busy (${(busy * cores).toFixed(2)} cores)`));
}

function noteCpu(results: FileResult[]): void {
  for (const r of results) if (r.cpuMs !== undefined) groupCpu.set(relative(process.cwd(), resolve(r.file)), r.cpuMs);
}

/** The counts of a pool's files, plain and browser apart, as node:test prints them for one run. */
function printCounts(results: FileResult[]): void {
  for (const [label, pick] of [['plain', false], ['browser', true]] as const) {
    const mine = results.filter((r) => isBrowserFile(r.file) === pick);
    if (mine.length === 0) continue;
    const c = tapCounts(mine.map((r) => r.tap));
    const failedFiles = mine.filter((r) => r.status !== 0).length;
    console.log(`\n${label}: ${mine.length} files (${failedFiles} failed); tests ${c.tests}, pass ${c.pass}, fail ${c.fail}, cancelled ${c.cancelled}, skipped ${c.skipped}, todo ${c.todo}`);
  }
}

/** Every failed test in the TAP files of this run, with where it failed and the first lines of why. */
function printFailures(): void {
  const taps = globSync(join(work, '*', '*.tap')).sort();
  const out: string[] = [];
  for (const tap of taps) {
    const lines = readLines(tap);
    lines.forEach((line, i) => {
      const failed = /^(\s*)not ok \d+ - (.*)$/.exec(line);
      if (!failed) return;
      out.push(`✖ ${relative(work, tap)}: ${failed[2]}`);
      const detail: string[] = [];
      for (let j = i + 1; j < lines.length && detail.length < 8; j++) {
        const l = lines[j]!.trim();
        if (l === '...') break;
        if (/^(location|error|failureType|code|exitCode|signal):/.test(l) || (detail.some((d) => d.startsWith('error:')) && !/^\w+:/.test(l))) detail.push(l);
      }
      out.push(...detail.map((d) => `    ${d.slice(0, 300)}`));
    });
  }
  for (const r of failedFiles) {
    const tap = existsSync(r.tap) ? readFileSync(r.tap, 'utf8') : '';
    if (!/^\s*not ok /m.test(tap)) out.push(`✖ ${relative(process.cwd(), r.file)}: exit ${r.status}, and no test of it failed (killed, or it failed outside its tests: its output is above)`);
  }
  console.log(`\n=== failed (${out.filter((l) => l.startsWith('✖')).length}) ===`);
  console.log(out.slice(0, 200).join('\n'));
}

/** Where the run's time went: the slowest files, each from its process's start to its exit. */
function printSlowest(count: number): void {
  // Only the test files' own lines: each file's `node --test` parent writes one too, with no file
  // name and its child's CPU counted again.
  const rows = readLines(timesList).map((l) => l.split('\t')).filter(([, file]) => file?.endsWith('.test.ts'))
    .map(([ms, file, cpu]) => ({ ms: Number(ms), file: relative(process.cwd(), file!), own: Number(cpu ?? 0) }))
    .map((r) => ({ ...r, cpu: groupCpu.get(r.file) ?? r.own }));
  if (rows.length === 0) return;
  rows.sort((a, b) => b.ms - a.ms);
  // Every file's figures, for whoever studies the run (CASCADE_TEST_TIMES_OUT=path).
  const out = process.env['CASCADE_TEST_TIMES_OUT'];
  if (out) writeFileSync(out, rows.map((r) => `${r.ms}\t${r.cpu}\t${r.file}\n`).join(''));
  // This machine's figures (wall, file, CPU), merged into what it knew, order and pack the next run.
  const merged = new Map(readLines(LOCAL_DURATIONS).map((l) => l.split('\t')).map(([ms, file, cpu]) => [file ?? '', `${ms}\t${file}\t${cpu ?? ''}`]));
  for (const r of rows) merged.set(r.file, `${r.ms}\t${r.file}\t${r.cpu}`);
  mkdirSync(dirname(LOCAL_DURATIONS), { recursive: true });
  writeFileSync(LOCAL_DURATIONS, [...merged].filter(([f]) => f !== '').map(([, line]) => `${line}\n`).join(''));
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const cpu = rows.reduce((s, r) => s + r.cpu, 0);
  const secs = (ms: number) => (ms / 1000).toFixed(1).padStart(7);
  const how = groupCpu.size > 0 ? 'every process each file started, by its cgroup' : "each file's process and the children it waited for";
  console.log(`\n=== ${files.length} files in ${((Date.now() - runStarted) / 1000).toFixed(0)} s wall (${(total / 1000).toFixed(0)} s summed over files, ${(cpu / 1000).toFixed(0)} CPU-s: ${how}); the ${Math.min(count, rows.length)} slowest (wall, CPU) ===`);
  for (const r of rows.slice(0, count)) console.log(`${secs(r.ms)} s ${secs(r.cpu)} s  ${r.file}`);
}

function oomKills(): number {
  const m = existsSync('/proc/vmstat') ? /^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8')) : null;
  return m ? Number(m[1]) : 0;
}

function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

/** A network namespace with only `lo` up, for Chromium (../shared/browser-webrtc.md): browser files run
 *  in it, so Chromium and WebRTC cannot reach anything but 127.0.0.1. '' when it cannot be made. */
function browserNamespace(): string {
  if (process.getuid?.() !== 0) {
    console.error('browser tests need root to create a loopback-only network namespace (ip netns)');
    return '';
  }
  const ns = `cascade-test-${process.pid}`;
  if (spawnSync('ip', ['netns', 'add', ns], { stdio: 'inherit' }).status !== 0) return '';
  spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'inherit' });
  return ns;
}
