// The install probes of `npm test` must notice every package missing, however it is missing:
// no binary at all, a binary that fails, or (the original defect) a Python module that fails to import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SYSTEM_PACKAGES, missingPackages, missingPackagesAsync, runsCleanly, runsCleanlyAsync } from '../../scripts/system-packages.ts';

const PROBE = path.resolve(import.meta.dirname, '../../scripts/system-packages.ts');

/** Runs the probe script in a private mount namespace after `setup` (shell) has hidden things. */
function probeInNamespace(setup: string): string[] {
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', `${setup}\nexec "$0" "$1"`, process.execPath, PROBE], { encoding: 'utf8' });
  assert.equal(r.status, 0, `probe in namespace failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

test('a Python module that fails to import counts as missing', () => {
  assert.equal(runsCleanly('/usr/bin/python3', ['-c', 'import cascade_no_such_module']), false);
  assert.equal(runsCleanly('/usr/bin/python3', ['-c', 'import sys']), true);
});

test('a command that is not there, or exits non-zero, counts as missing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-'));
  const failing = path.join(dir, 'failing');
  writeFileSync(failing, '#!/bin/sh\nexit 1\n');
  chmodSync(failing, 0o755);
  assert.equal(runsCleanly(failing, []), false);
  assert.equal(runsCleanly(path.join(dir, 'absent'), []), false);
  // PATH without any of the tools: every probe that goes through PATH reports its package missing.
  const viaPath = SYSTEM_PACKAGES.filter((p) => !p.cmd.includes('/'));
  assert.deepEqual(missingPackages({ PATH: dir }, viaPath), viaPath.map((p) => p.pkg));
  // The suite's probes, all at once (scripts/test.ts): the same answers.
  assert.equal(await runsCleanlyAsync(failing, []), false);
  assert.equal(await runsCleanlyAsync(path.join(dir, 'absent'), []), false);
  assert.equal(await runsCleanlyAsync('/usr/bin/python3', ['-c', 'import cascade_no_such_module']), false);
  assert.equal(await runsCleanlyAsync('/usr/bin/python3', ['-c', 'import sys']), true);
  assert.deepEqual(await missingPackagesAsync({ PATH: dir }, viaPath), viaPath.map((p) => p.pkg));
});

test('every probe passes on this machine once the packages are installed (npm test installs them first)', () => {
  assert.deepEqual(missingPackages(), []);
});

test('python3-libtorrent hidden from Debian python: the probe says it is missing', { skip: process.getuid?.() !== 0 && 'needs root for a mount namespace' }, () => {
  assert.deepEqual(probeInNamespace('mount -t tmpfs none /usr/lib/python3/dist-packages'), ['python3-libtorrent']);
});

test('every command replaced by one that fails: every package is missing', { skip: process.getuid?.() !== 0 && 'needs root for a mount namespace' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'probe-'));
  const failing = path.join(dir, 'failing');
  writeFileSync(failing, '#!/bin/sh\nexit 1\n');
  chmodSync(failing, 0o755);
  const resolved = SYSTEM_PACKAGES.map((p) => spawnSync('sh', ['-c', `command -v "${p.cmd}"`], { encoding: 'utf8' }).stdout.trim());
  const setup = resolved.filter((f) => f !== '').map((f) => `mount --bind ${failing} ${f}`).join('\n');
  // python3 itself stays; its import of libtorrent is what fails.
  const pySetup = setup.replace(`mount --bind ${failing} /usr/bin/python3`, 'mount -t tmpfs none /usr/lib/python3/dist-packages');
  assert.deepEqual(probeInNamespace(pySetup).sort(), SYSTEM_PACKAGES.map((p) => p.pkg).sort());
});

test('prometheus and kubectl hidden (their binaries replaced by /dev/null): exactly those two are missing', { skip: process.getuid?.() !== 0 && 'needs root for a mount namespace' }, () => {
  // kubectl may be a symlink (a cloud SDK's): bind-mounting over the link covers what it points at.
  const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
  const setup = ['prometheus', 'kubectl'].map((c) => `mount --bind /dev/null ${which(c)}`).join('\n');
  assert.deepEqual(probeInNamespace(setup).sort(), ['kubernetes-client', 'prometheus']);
});
