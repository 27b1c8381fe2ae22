// `npm test`: makes sure the real BitTorrent clients the interop tests drive are installed
// (installing them with apt-get when running as root) and node-llama-cpp's CPU build for the
// --llm-gguf tests (`npm run install:llm`), then runs every test file with node:test.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { missingPackages } from './system-packages.ts';
import { installLlm } from './install-llm.ts';
import { ALL_TESTS, changedFiles, testFilesUnder, testsForChange } from './changed-tests.ts';

const WATCHDOG = join(import.meta.dirname, 'test-watchdog.ts');
const LOCAL_DURATIONS = join(import.meta.dirname, '..', '.cache', 'test-durations.tsv');

// What to run is settled first: a wrong folder is a usage error before anything is installed.
const files = chooseFiles(process.argv.slice(2));

const missing = missingPackages();
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
  const still = missingPackages();
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

// Browser tests run inside a network namespace with only `lo` up, so Chromium and WebRTC cannot
// reach anything but 127.0.0.1 (see ../shared/browser-webrtc.md).
const browserFiles = files.filter((f) => f.endsWith('.browser.test.ts'));
const plainFiles = files.filter((f) => !f.endsWith('.browser.test.ts'));
const work = mkdtempSync(join(tmpdir(), 'cascade-test-run-'));
// How many files run at once. Most files spend most of their wall time waiting (on a lease, a
// chain's block, a peer, a browser), not computing: at two files at a time a full run used about
// half of two cores, so plain files run three at a time. Browser files (two at a time) still run
// after them: run beside them, five files at once saturated both cores and the tests that judge
// time (a browser's page load, a lease, a GC) failed on a loaded machine.
const PLAIN_CONCURRENCY = Number(process.env['CASCADE_TEST_CONCURRENCY'] ?? 3);
const BROWSER_CONCURRENCY = Number(process.env['CASCADE_TEST_BROWSER_CONCURRENCY'] ?? 2);
const nodeTest = (list: string[], tap: string, concurrency: number) => [
  // --test-force-exit: a file whose tests have all ended exits even if a native handle is left
  // open (node-datachannel keeps an unclosed peer connection's callbacks referenced): it once held
  // packages/engine/test/webrtc-rejoin.test.ts, every test passed, for 12 minutes and counting.
  process.execPath, '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', '--test-force-exit', `--import=${WATCHDOG}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...longestFirst(list),
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
const env = { ...process.env, CASCADE_TEST_TIMES: timesList };

// A file killed by a signal fails as a whole, with no test named (its output dies with it); when the
// kernel's OOM killer did it, its counter says so, which the run's own output otherwise never does.
const oomKillsBefore = oomKills();
const runStarted = Date.now();
const plainStatus = plainFiles.length > 0 ? await runFiles(plainFiles, 'plain', PLAIN_CONCURRENCY, false) : 0;
const browserStatus = browserFiles.length > 0 ? await runFiles(browserFiles, 'browser', BROWSER_CONCURRENCY, true) : 0;
const status = plainStatus || browserStatus;
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
 * Resolves with the exit status. `inNamespace`: inside a network namespace with only `lo` up.
 */
async function runFiles(list: string[], label: string, concurrency: number, inNamespace: boolean): Promise<number> {
  const hungList = join(work, `${label}.hung`);
  const run = (cmd: string[]) => (inNamespace ? runInNamespace(cmd, hungList) : spawnRun(cmd, { ...env, CASCADE_TEST_HUNG_LIST: hungList }));
  const tap = join(work, `${label}.tap`);
  const first = await run(nodeTest(list, tap, concurrency));
  const hung = readLines(hungList).map((f) => relative(process.cwd(), f));
  rmSync(hungList, { force: true });
  if (first === 0 || hung.length === 0) return first;
  const failed = readLines(tap).flatMap((l) => /^not ok \d+ - (.*)$/.exec(l)?.[1] ?? []);
  const others = failed.filter((name) => !hung.some((f) => name === f || name.endsWith(f)));
  if (others.length > 0) return first;
  console.log(`\n${hung.join(', ')}: killed by the watchdog (its event loop stood still); running ${hung.length === 1 ? 'it' : 'them'} once more`);
  return run(nodeTest(hung, join(work, `${label}-again.tap`), 1));
}

/** Spawns cmd, its output on ours; resolves with its exit status. */
function spawnRun(cmd: string[], childEnv: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env: childEnv });
    child.on('error', (err) => {
      console.error(`${cmd[0]}: ${err.message}`);
      resolve(1);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/**
 * The files, those that took longest in the last full run first (scripts/test-durations.tsv, or
 * .cache/test-durations.tsv once this machine has run the suite): a long file started last would
 * run alone at the end while the other slots stand idle. Files with no figure go last, in order.
 */
function longestFirst(list: string[]): string[] {
  const known = new Map<string, number>();
  for (const path of [join(import.meta.dirname, 'test-durations.tsv'), LOCAL_DURATIONS]) {
    for (const [ms, file] of readLines(path).map((l) => l.split('\t'))) if (file) known.set(file, Number(ms));
  }
  const cost = (f: string) => known.get(relative(process.cwd(), f)) ?? 0;
  return [...list].sort((a, b) => cost(b) - cost(a));
}

/** Every failed test in the TAP files of this run, with where it failed and the first lines of why. */
function printFailures(): void {
  const taps = globSync(join(work, '*.tap')).sort();
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
  console.log(`\n=== failed (${out.filter((l) => l.startsWith('✖')).length}) ===`);
  console.log(out.slice(0, 200).join('\n'));
}

/** Where the run's time went: the slowest files, each from its process's start to its exit. */
function printSlowest(count: number): void {
  const rows = readLines(timesList).map((l) => l.split('\t')).map(([ms, file, cpu]) => ({ ms: Number(ms), cpu: Number(cpu ?? 0), file: relative(process.cwd(), file ?? '?') }));
  if (rows.length === 0) return;
  rows.sort((a, b) => b.ms - a.ms);
  // Every file's figures, for whoever studies the run (CASCADE_TEST_TIMES_OUT=path).
  const out = process.env['CASCADE_TEST_TIMES_OUT'];
  if (out) writeFileSync(out, rows.map((r) => `${r.ms}\t${r.cpu}\t${r.file}\n`).join(''));
  // This machine's figures, merged into what it knew, order the next run (longestFirst).
  const merged = new Map(readLines(LOCAL_DURATIONS).map((l) => l.split('\t')).map(([ms, file]) => [file ?? '', Number(ms)]));
  for (const r of rows) merged.set(r.file, r.ms);
  mkdirSync(dirname(LOCAL_DURATIONS), { recursive: true });
  writeFileSync(LOCAL_DURATIONS, [...merged].filter(([f]) => f !== '').map(([f, ms]) => `${ms}\t${f}\n`).join(''));
  const total = rows.reduce((s, r) => s + r.ms, 0);
  const cpu = rows.reduce((s, r) => s + r.cpu, 0);
  const secs = (ms: number) => (ms / 1000).toFixed(1).padStart(7);
  console.log(`\n=== ${files.length} files in ${((Date.now() - runStarted) / 1000).toFixed(0)} s wall (${(total / 1000).toFixed(0)} s summed over files, ${(cpu / 1000).toFixed(0)} CPU-s); the ${Math.min(count, rows.length)} slowest (wall, CPU) ===`);
  for (const r of rows.slice(0, count)) console.log(`${secs(r.ms)} s ${secs(r.cpu)} s  ${r.file}`);
}

function oomKills(): number {
  const m = existsSync('/proc/vmstat') ? /^oom_kill (\d+)$/m.exec(readFileSync('/proc/vmstat', 'utf8')) : null;
  return m ? Number(m[1]) : 0;
}

function readLines(path: string): string[] {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '') : [];
}

async function runInNamespace(cmd: string[], hungList: string): Promise<number> {
  if (process.getuid?.() !== 0) {
    console.error('browser tests need root to create a loopback-only network namespace (ip netns)');
    return 1;
  }
  const ns = `cascade-test-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', ns], { stdio: 'inherit' });
  if (add.status !== 0) return add.status ?? 1;
  try {
    spawnSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'inherit' });
    return await spawnRun(['ip', 'netns', 'exec', ns, ...cmd], { ...env, CASCADE_TEST_HUNG_LIST: hungList });
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'inherit' });
  }
}
