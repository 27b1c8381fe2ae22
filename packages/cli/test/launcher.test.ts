// `./node_modules/.bin/cascade` started by an older Node (the machine's own, Node 20 here) runs
// Cascade on the pinned Node 24 instead of dying on `.ts` (issue 11, defect 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN_LINK = path.join(ROOT, 'node_modules', '.bin', 'cascade');
const LAUNCHER = path.join(ROOT, 'packages', 'cli', 'bin', 'cascade.js');

/** A Node older than 24 on this machine (Debian's, or the image's), if there is one. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const r = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (r.status === 0 && Number(r.stdout.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

const old = olderNode();

test('the .bin/cascade link runs on the pinned Node 24 whatever node is first on PATH', { skip: !old && 'no Node older than 24 on this machine' }, (t) => {
  // PATH puts the old Node first, as a shell on this machine does (`#!/usr/bin/env node`).
  const env = { ...process.env, PATH: `${path.dirname(old!)}:/usr/bin:/bin` };
  const r = spawnSync(BIN_LINK, ['--version'], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^cascade \d+\.\d+\.\d+ \(Node v24\./);
  // A real command through the same path: an offline listing against an empty state dir.
  const state = mkdtempSync(path.join(tmpdir(), 'cascade-launcher-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const list = spawnSync(BIN_LINK, ['list', '--json', '--state-dir', state], { encoding: 'utf8', env });
  assert.equal(list.status, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout).torrents, []);
});

test('the exit code of the relaunched command comes back', { skip: !old && 'no Node older than 24 on this machine' }, () => {
  const r = spawnSync(old!, [LAUNCHER, 'no-such-verb'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /no-such-verb|unknown/i);
});

test('without the pinned Node, an older Node explains what to run', { skip: !old && 'no Node older than 24 on this machine' }, () => {
  const r = spawnSync(old!, [LAUNCHER, '--version'], { encoding: 'utf8', env: { ...process.env, CASCADE_RELAUNCHED: '1' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /needs Node 24 or newer; this is Node 2\d\./);
  assert.match(r.stderr, /npx cascade/);
});

// The memory settings a node runs with (issue 25: 10,000 torrents in ≤ 300 MB) come from the
// launcher's first line; `npm start` and the container's entrypoint must carry the same ones.
const LAUNCHER_ENV = 'GLIBC_TUNABLES=glibc.malloc.arena_max=2';
const LAUNCHER_FLAGS = '--max-semi-space-size=8 --no-memory-reducer';

test('npm start, the launcher and the container entrypoint run Node with the same memory settings', () => {
  // The launcher's shell lines start Node either way (the pinned one, or the one on PATH) with them.
  const [shebang, shell] = readFileSync(LAUNCHER, 'utf8').split('\n', 2);
  assert.equal(shebang, '#!/bin/sh');
  assert.ok(shell!.includes(`exec env ${LAUNCHER_ENV} "$d/node_modules/node/bin/node" ${LAUNCHER_FLAGS} "$f" "$@"`), shell);
  assert.ok(shell!.endsWith(`exec env ${LAUNCHER_ENV} node ${LAUNCHER_FLAGS} "$f" "$@"`), shell);
  const start = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  assert.equal(start, `${LAUNCHER_ENV} node ${LAUNCHER_FLAGS} packages/cli/bin/cascade.js serve`);
  const entry = readFileSync(path.join(ROOT, 'deploy', 'entrypoint.sh'), 'utf8');
  assert.match(entry, /^GLIBC_TUNABLES="\$\{GLIBC_TUNABLES:-glibc\.malloc\.arena_max=2\}"$/m);
  assert.match(entry, /^export GLIBC_TUNABLES$/m);
  assert.match(entry, new RegExp(`^exec node ${LAUNCHER_FLAGS} `, 'm'));
});

test('a node started through the .bin/cascade link has the launcher line\'s environment and flags, and is the pinned Node itself', async (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'cascade-launcher-env-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  // An older Node first on PATH, where there is one: the link starts the pinned Node 24 straight
  // away, not that Node to start Node 24 (issue 40: ~0.12 CPU-s per command).
  const PATH = old ? `${path.dirname(old)}:${process.env.PATH}` : process.env.PATH;
  const child = spawn(BIN_LINK, ['serve', '--json', '--state-dir', state, '--download-dir', path.join(state, 'dl'), '--host', '127.0.0.1', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH, GLIBC_TUNABLES: undefined, CASCADE_PORT_MAPPING: 'off', CASCADE_HOME: '/nonexistent-cascade-home' },
  });
  try {
    const lines = createInterface({ input: child.stdout! });
    for await (const line of lines) if (line.includes('"listening"')) break;
    // sh and env(1) exec node: the link's process is the node itself.
    const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes(LAUNCHER_ENV), 'GLIBC_TUNABLES reached the node');
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    for (const flag of LAUNCHER_FLAGS.split(' ')) assert.ok(cmdline.includes(flag), `${flag} in ${cmdline.join(' ')}`);
    assert.equal(realpathSync(`/proc/${child.pid}/exe`), realpathSync(path.join(ROOT, 'node_modules', 'node', 'bin', 'node')));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

// The launcher resolves relative imports itself (no stat, no realpath: issue 40's start-up), which
// is right only while every module it loads sits at its real path: a symlink in the sources would
// load a second copy of a module under another URL. A load hook (it sees every module, the
// launcher's own resolutions included) records what a real command loads.
test('every module the launcher loads is at its real path', (t) => {
  const state = mkdtempSync(path.join(tmpdir(), 'cascade-launcher-urls-'));
  t.after(() => rmSync(state, { recursive: true, force: true }));
  const record = path.join(state, 'urls.json');
  const recorder = `import m from 'node:module'; import fs from 'node:fs'; const u = new Set();
    m.registerHooks({ load(url, ctx, next) { u.add(url); return next(url, ctx); } });
    process.on('exit', () => fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify([...u])));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(recorder)}`, LAUNCHER, 'list', '--json', '--state-dir', state], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(readFileSync(record, 'utf8')) as string[]).filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
  assert.ok(files.some((f) => f.endsWith(path.join('packages', 'node-state', 'src', 'state-db.ts'))), 'the command loaded the node state package');
  for (const f of files) assert.equal(realpathSync(f), f, 'loaded through a symlink');
});

test('a cascade that is killed has written its compile cache: its next start does not strip and compile again', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cascade-compile-cache-'));
  t.after(() => spawnSync('rm', ['-rf', dir]));
  // `cascade serve` on a throwaway state, SIGKILLed once it has run past the launcher's flush (5 s).
  const child = spawn(LAUNCHER, ['serve', '--host', '127.0.0.1', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--no-chain', '--state-dir', path.join(dir, 'state'), '--json'], {
    env: { ...process.env, NODE_COMPILE_CACHE: path.join(dir, 'cache'), CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  for await (const line of createInterface({ input: child.stdout! })) if (line.includes('"serving"')) break;
  await new Promise((r) => setTimeout(r, 6000));
  child.kill('SIGKILL');
  await once(child, 'exit');
  const entries = spawnSync('find', [path.join(dir, 'cache'), '-type', 'f'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  assert.ok(entries.length > 100, `compile cache entries after a SIGKILL: ${entries.length}`);
});
