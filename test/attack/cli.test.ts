// The CLI against unusable output paths and interrupts (issue 19, item 12): an output directory
// that cannot be made or written is an error within seconds, never a busy loop, and Ctrl-C always
// ends the CLI (a second one at once).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cascadeCreate, describeProc, makeRandomFiles, spawnCascade, startCascadeSeed, tempDir, waitForEvent, waitForExit,
} from '../interop/helpers.ts';

/** CPU seconds a process has used so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

async function seeded(t: TestContext) {
  const root = await tempDir(t);
  const src = join(root, 'src');
  await makeRandomFiles(src, { 'payload.bin': 3_000_001 });
  const torrent = join(root, 'payload.torrent');
  await cascadeCreate(t, join(src, 'payload.bin'), torrent, ['--piece-length', '16384']);
  const seeder = await startCascadeSeed(t, torrent, src);
  return { root, torrent, peer: `127.0.0.1:${seeder.port}` };
}

/** A read-only bind mount of a fresh directory (root only; every test here runs as root in CI).
 *  Unmounted by the caller: after-hooks run in order, and the temp dir's removal comes first. */
async function readOnlyDir(root: string): Promise<{ dir: string; unmount: () => void }> {
  const dir = join(root, 'ro');
  await mkdir(dir);
  execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['-o', 'remount,bind,ro', dir]);
  return { dir, unmount: () => execFileSync('umount', [dir]) };
}

test('an unusable output directory is an error within seconds, naming the path and the cause; no busy loop', { timeout: 120_000 }, async (t) => {
  const { root, torrent, peer } = await seeded(t);
  const ro = await readOnlyDir(root);
  try {
    await tryEach(t, root, torrent, peer, ro.dir);
  } finally {
    ro.unmount();
  }
});

async function tryEach(t: TestContext, root: string, torrent: string, peer: string, roDir: string): Promise<void> {
  const aFile = join(root, 'a-file');
  await writeFile(aFile, 'not a directory');
  const cases: [string, RegExp][] = [
    ['/proc/nope', /\/proc\/nope.*(ENOENT|no such)/],
    [join(aFile, 'sub'), /a-file.*(ENOTDIR|not a directory)/],
    [join(roDir, 'out'), /ro\/out.*(EROFS|read-only)/],
  ];
  for (const [dir, names] of cases) {
    const started = Date.now();
    const dl = await spawnCascade(t, 'download', [torrent, '-o', dir, '--peer', peer]);
    dl.child.stdin!.end();
    let cpu = 0;
    const sampler = setInterval(() => {
      try {
        cpu = cpuSeconds(dl.pid);
      } catch {
        /* exited */
      }
    }, 200);
    const exit = await waitForExit(dl, 20_000).finally(() => clearInterval(sampler));
    const ms = Date.now() - started;
    assert.notEqual(exit.code, 0, `download into ${dir} must fail:\n${describeProc(dl)}`);
    assert.ok(ms < 10_000, `took ${ms} ms to fail`);
    const said = dl.stderr + JSON.stringify(dl.events);
    assert.match(said, names, describeProc(dl));
    t.diagnostic(`-o ${dir}: exit ${exit.code} after ${ms} ms, ${cpu.toFixed(2)} CPU-s; ${said.trim().split('\n').at(-1)}`);
    assert.ok(cpu < 5, `used ${cpu} CPU-s`);
  }
}

test('Ctrl-C ends a download at once, and a second one ends it even mid-shutdown', { timeout: 120_000 }, async (t) => {
  const { root, torrent } = await seeded(t);
  for (const signals of [1, 2]) {
    // A peer that never answers: the download is waiting when the signal comes.
    const dl = await spawnCascade(t, 'download', [torrent, '-o', join(root, `out-${signals}`), '--peer', '127.0.0.1:9']);
    dl.child.stdin!.end();
    await waitForEvent(dl, 'progress', { timeoutMs: 20_000 });
    const started = Date.now();
    dl.child.kill('SIGINT');
    if (signals === 2) dl.child.kill('SIGINT');
    const exit = await waitForExit(dl, 15_000);
    const ms = Date.now() - started;
    assert.equal(exit.code, 130, describeProc(dl));
    assert.ok(ms < 5000, `exited ${ms} ms after ${signals} SIGINT`);
    t.diagnostic(`${signals}× SIGINT: exit ${exit.code} after ${ms} ms`);
  }
});
