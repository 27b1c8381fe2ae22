// `./node_modules/.bin/cascade` started by an older Node (the machine's own, Node 20 here) runs
// Cascade on the pinned Node 24 instead of dying on `.ts` (issue 11, defect 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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

test('the .bin/cascade link runs on the pinned Node 24 whatever node is first on PATH', { skip: !old && 'no Node older than 24 on this machine' }, () => {
  // PATH puts the old Node first, as a shell on this machine does (`#!/usr/bin/env node`).
  const env = { ...process.env, PATH: `${path.dirname(old!)}:/usr/bin:/bin` };
  const r = spawnSync(BIN_LINK, ['--version'], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^cascade \d+\.\d+\.\d+ \(Node v24\./);
  // A real command through the same path: an offline listing against an empty state dir.
  const state = mkdtempSync(path.join(tmpdir(), 'cascade-launcher-'));
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
