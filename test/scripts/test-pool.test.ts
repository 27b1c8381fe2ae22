// scripts/test-pool.ts, the way `npm test` packs its files: by their CPU share from the last run,
// within a budget of cores, at least two and at most N at once, longest first, at most M browser
// files, each file's output printed whole. Real processes (`node -e` sleeping stand-ins for files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { coresOf, cpuGroups, cpuMeter, readCosts, runPool, tapCounts, type FileCost } from '../../scripts/test-pool.ts';

test('test pool: the budget, the bounds, longest first, browser files capped, statuses and TAP counts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-pool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const log = join(dir, 'log');
  writeFileSync(log, '');
  // Each stand-in notes when it starts and ends, sleeps, writes a TAP summary and exits 0 (or 3 for "bad").
  const files = ['heavy-a', 'heavy-b', 'light-1', 'light-2', 'light-3', 'light-4', 'x.browser', 'y.browser', 'z.browser', 'bad'].map((n) => `${n}.test.ts`);
  const costs = new Map<string, FileCost>([
    ['heavy-a.test.ts', { wallMs: 900, cpuMs: 900 }], // a core each
    ['heavy-b.test.ts', { wallMs: 800, cpuMs: 800 }],
    ...['light-1', 'light-2', 'light-3', 'light-4'].map((n) => [`${n}.test.ts`, { wallMs: 300, cpuMs: 30 }] as [string, FileCost]), // 0.1 core
    ...['x', 'y', 'z'].map((n) => [`${n}.browser.test.ts`, { wallMs: 400, cpuMs: 80 }] as [string, FileCost]),
    ['bad.test.ts', { wallMs: 200, cpuMs: 20 }],
  ]);
  const script = (file: string, tap: string) => `
    const fs = require('node:fs');
    fs.appendFileSync(${JSON.stringify(log)}, 'start ${file}\\n');
    setTimeout(() => {
      fs.writeFileSync(${JSON.stringify(tap)}, '# tests 2\\n# pass ${file.startsWith('bad') ? 1 : 2}\\n# fail ${file.startsWith('bad') ? 1 : 0}\\n');
      fs.appendFileSync(${JSON.stringify(log)}, 'end ${file}\\n');
      console.log('out of ${file} line 1'); console.log('out of ${file} line 2');
      process.exit(${file.startsWith('bad') ? 3 : 0});
    }, ${costs.get(file)?.wallMs ?? 200});`;
  const printed: string[] = [];
  const results = await runPool(files, {
    command: (file, tap) => [process.execPath, '-e', script(file, tap)],
    tapDir: dir, costs, cpuBudget: 1.5, minRunning: 2, maxRunning: 4, maxBrowsers: 2, env: process.env, print: (text) => void printed.push(String(text)),
  });

  assert.equal(results.length, files.length);
  assert.deepEqual(results.filter((r) => r.status !== 0).map((r) => [r.file, r.status]), [['bad.test.ts', 3]]);
  const events = readFileSync(log, 'utf8').trim().split('\n');
  // Longest first: the two heavy files start first (two at least, whatever the budget).
  assert.deepEqual(events.slice(0, 2).sort(), ['start heavy-a.test.ts', 'start heavy-b.test.ts']);
  let running = new Set<string>();
  let maxRunning = 0;
  let maxBrowsers = 0;
  let overBudget = 0;
  for (const e of events) {
    const [what, file] = e.split(' ') as [string, string];
    if (what === 'start') running.add(file);
    else running.delete(file);
    maxRunning = Math.max(maxRunning, running.size);
    maxBrowsers = Math.max(maxBrowsers, [...running].filter((f) => f.includes('.browser.')).length);
    const load = [...running].reduce((s, f) => s + coresOf(costs.get(f) ?? { wallMs: 20_000, cpuMs: 12_000 }), 0);
    if (running.size > 2 && load > 1.5 + 1e-9) overBudget++;
  }
  running = new Set();
  assert.ok(maxRunning <= 4 && maxRunning >= 3, `at most four at once, and light files beside the heavy ones (${maxRunning})`);
  assert.ok(maxBrowsers <= 2, `at most two browser files at once (${maxBrowsers})`);
  assert.equal(overBudget, 0, 'never more than 1.5 cores by the figures once two files run');
  assert.deepEqual(tapCounts(results.map((r) => r.tap)), { tests: 20, suites: 0, pass: 19, fail: 1, cancelled: 0, skipped: 0, todo: 0 });
  // Each file's output whole, under its name: its two lines together, never another file's between.
  const text = printed.join('');
  for (const f of files) assert.match(text, new RegExp(`▶ ${f.replace('.', '\\.')} \\([0-9.]+ s(, [0-9.]+ CPU-s)?(, exit 3)?\\)\\nout of ${f.replace('.', '\\.')} line 1\\nout of ${f.replace('.', '\\.')} line 2\\n`));
});

test('test pool: figures without CPU keep the share of a core the committed figures gave', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-pool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'committed.tsv'), '# comment\n10000\ta.test.ts\t2000\n8000\tb.test.ts\t8000\n');
  writeFileSync(join(dir, 'local.tsv'), '20000\ta.test.ts\n4000\tb.test.ts\t1000\n5000\tc.test.ts\n');
  const costs = readCosts([join(dir, 'committed.tsv'), join(dir, 'local.tsv'), join(dir, 'missing.tsv')]);
  assert.deepEqual(costs.get('a.test.ts'), { wallMs: 20000, cpuMs: 4000 });
  assert.deepEqual(costs.get('b.test.ts'), { wallMs: 4000, cpuMs: 1000 });
  assert.deepEqual(costs.get('c.test.ts'), { wallMs: 5000, cpuMs: 2500 });
  assert.equal(coresOf({ wallMs: 1000, cpuMs: 5000 }), 2, 'no file is charged more than two cores');
});

test('test pool: the machine\'s busy cores, measured from /proc/stat', async () => {
  const meter = cpuMeter();
  assert.equal(meter.busyCores(), undefined, 'nothing measured before a second sample');
  const end = Date.now() + 300;
  while (Date.now() < end); // a core busy for 0.3 s
  assert.equal(meter.overloaded(), true, 'unknown until measured: taken as overloaded');
  meter.sample();
  const busy = meter.busyCores()!;
  assert.ok(busy >= 0.5 && busy <= availableParallelism(), `this process kept about a core busy (${busy})`);
  assert.equal(typeof meter.overloaded(), 'boolean');
});

test('test pool, measuring the machine: every file runs, the first two at once, the rest one at a time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-pool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = ['a', 'b', 'c', 'd'].map((n) => `${n}.test.ts`);
  const startedAt = new Map<string, number>();
  const results = await runPool(files, {
    command: (file, tap) => {
      startedAt.set(file, Date.now());
      return [process.execPath, '-e', `require('node:fs').writeFileSync(${JSON.stringify(tap)}, '# tests 1\\n# pass 1\\n'); setTimeout(() => {}, 300)`];
    },
    tapDir: dir, costs: new Map(), cpuBudget: 100, minRunning: 2, maxRunning: 6, maxBrowsers: 2, env: process.env, measureLoad: true, print: () => {},
  });
  assert.deepEqual(results.map((r) => r.status), [0, 0, 0, 0]);
  const at = files.map((f) => startedAt.get(f)!);
  assert.ok(Math.abs(at[0]! - at[1]!) < 200, 'the first two start together');
  assert.equal(tapCounts(results.map((r) => r.tap)).pass, 4);
});

test('test pool: a file\'s CPU counts the processes it started and did not wait for (its cgroup), and those it left running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-pool-'));
  const marker = join(dir, 'spun');
  t.after(() => {
    // The stand-in's child sleeps on after the file ends: it goes here.
    try {
      process.kill(Number(readFileSync(marker, 'utf8')));
    } catch {
      // Not started, or gone.
    }
    rmSync(dir, { recursive: true, force: true });
  });
  // The file starts a child it never waits for: the child spins 400 ms of CPU, says so, then sleeps
  // on; the file ends once it has read that. Its own /proc figure would hold none of the child's CPU.
  const child = `const s = process.cpuUsage(); while (process.cpuUsage(s).user + process.cpuUsage(s).system < 400000); require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid)); setTimeout(() => {}, 60000);`;
  const file = `
    const { spawn } = require('node:child_process');
    const fs = require('node:fs');
    spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'ignore', detached: true }).unref();
    const poll = setInterval(() => { if (fs.existsSync(${JSON.stringify(marker)})) { clearInterval(poll); process.exit(0); } }, 50);`;
  const groups = cpuGroups();
  assert.ok(groups !== undefined || process.getuid?.() !== 0, 'as root, where cgroup v2 is mounted writable, each file gets a cgroup');
  const printed: string[] = [];
  const [r] = await runPool(['spawner.test.ts'], {
    command: () => [process.execPath, '-e', file],
    tapDir: dir, costs: new Map(), cpuBudget: 2, minRunning: 1, maxRunning: 1, maxBrowsers: 1, env: process.env, groups, print: (text) => void printed.push(String(text)),
  });
  assert.equal(r!.status, 0);
  if (groups) {
    assert.ok(r!.cpuMs! >= 400, `the child's 400 ms are counted (${r!.cpuMs} ms)`);
    assert.equal(r!.left, 1, 'the child still sleeping when the file ended');
    assert.match(printed.join(''), /▶ spawner\.test\.ts \([0-9.]+ s, [0-9.]+ CPU-s, left 1 process\(es\) running\)/);
  } else {
    assert.equal(r!.cpuMs, undefined, 'no cgroup: no figure (the file\'s own /proc one stands)');
  }
});

test('test pool: a file that runs past its limit is asked what holds it, then killed with every process it started, and fails', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-pool-'));
  const marker = join(dir, 'grandchild');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A file whose loop turns forever (no test timeout would end it) and which started a detached
  // child that sleeps on; asked with SIGUSR2, it says what holds it, as scripts/test-watchdog.ts does.
  const file = `
    const { spawn } = require('node:child_process');
    const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore', detached: true });
    require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(c.pid));
    process.on('SIGUSR2', () => console.error('held by an interval'));
    setInterval(() => {}, 1000);`;
  const printed: string[] = [];
  const started = Date.now();
  const [r] = await runPool(['hang.test.ts'], {
    command: (f) => [process.execPath, '-e', file, f],
    tapDir: dir, costs: new Map(), cpuBudget: 2, minRunning: 1, maxRunning: 1, maxBrowsers: 1, env: process.env,
    fileLimitMs: 1500, print: (text) => void printed.push(String(text)),
  });
  assert.notEqual(r!.status, 0, 'a killed file fails');
  assert.ok(Date.now() - started < 15_000, `ended soon after its limit (${Date.now() - started} ms)`);
  const text = printed.join('');
  assert.match(text, /hang\.test\.ts: still running after 2 s: killing it and every process it started/);
  assert.match(text, /held by an interval/, 'asked what holds it before the kill');
  const grandchild = Number(readFileSync(marker, 'utf8'));
  let alive = true;
  for (let i = 0; i < 50 && alive; i++) {
    try {
      process.kill(grandchild, 0);
      await new Promise((res) => setTimeout(res, 100));
    } catch {
      alive = false;
    }
  }
  assert.equal(alive, false, 'the child it started is gone too');
});
