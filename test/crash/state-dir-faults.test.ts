// The state directory's file system going read-only, or full (issue 63, item 4), under a real
// `cascade serve`: each in a mount namespace made for that start alone (`unshare -m`): the state dir
// bound read-only over itself, or a copy of it on a 4 MiB tmpfs filled to the last byte. Each start
// fails at once with one line that names the directory and what to do, exit 1, no stack; nothing in
// the directory changed; once the disk has room again the same state opens with its torrent.
// Before: "cascade: EROFS: read-only file system, chmod '…/api-token'" and "ENOSPC: no space left on
// device, write" (which file?), and a fresh state on a full disk was called corrupted ("move it aside").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '..', '..', 'packages/cli/src/main.ts');
const ENV = { ...process.env, CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off', CASCADE_HOME: '/nonexistent' };

/** Every file below dir (but the SQLite shared-memory index, which readers rewrite) by its SHA-256. */
function snapshot(dir: string, at = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, at)).sort()) {
    const rel = join(at, name);
    if (statSync(join(dir, rel)).isDirectory()) Object.assign(out, snapshot(dir, rel));
    else if (!name.endsWith('-shm')) out[rel] = createHash('sha256').update(readFileSync(join(dir, rel))).digest('hex');
  }
  return out;
}

/** `sh -ec script` in a mount namespace of its own; $1 is node, $2 the CLI. */
function inNamespace(script: string) {
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', script, 'sh', process.execPath, MAIN], { encoding: 'utf8', env: ENV, timeout: 120_000 });
}

/** What a failed start printed, checked: one line, ours, no stack. */
function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, not:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('a read-only or full state dir: one clear line, exit 1, nothing changed, everything there once it is writable', { timeout: 300_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cascade-state-faults-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const S = join(root, 'state');
  // A state with a torrent in it, added with no node running (a serve's start costs ~40 s here).
  const ih = randomBytes(20).toString('hex');
  const add = spawnSync(process.execPath, [MAIN, 'add', `magnet:?xt=urn:btih:${ih}&dn=kept`, '--state-dir', S], { encoding: 'utf8', env: ENV });
  assert.equal(add.status, 0, add.stderr);
  const before = snapshot(S);
  const serve = `"$1" "$2" serve --host 127.0.0.${2 + Math.floor(Math.random() * 250)} --http-port 0 --port 0 --tracker-port 0 --no-dht --no-chain --download-dir ${join(root, 'dl')}`;

  await t.test('read-only: the state dir bound read-only over itself', () => {
    const r = inNamespace(`mount --bind ${S} ${S}; mount -o remount,bind,ro ${S}; ${serve} --state-dir ${S}`);
    assert.equal(r.status, 1, r.stderr);
    oneLine(r.stderr, new RegExp(`^cascade: cannot write to the state directory ${S}: read-only file system \\(EROFS\\); nothing in it was changed — make it writable`));
    assert.deepEqual(snapshot(S), before, 'every file as it was');
  });

  await t.test('full: a copy on a 4 MiB tmpfs filled up, then freed', () => {
    const M = join(root, 'small');
    const copy = join(root, 'after-full');
    const err = join(root, 'full.err');
    const r = inNamespace(`mkdir -p ${M}; mount -t tmpfs -o size=4m cascade-full ${M}; cp -a ${S} ${M}/state
      dd if=/dev/zero of=${M}/fill bs=4096 2>/dev/null || true
      set +e; ${serve} --state-dir ${M}/state 2>${err}; echo "serve exit=$?"; set -e
      cp -a ${M}/state ${copy}; rm ${M}/fill
      "$1" "$2" list --json --state-dir ${M}/state`);
    assert.match(r.stdout, /^serve exit=1$/m, r.stdout + r.stderr);
    oneLine(readFileSync(err, 'utf8'), new RegExp(`^cascade: cannot write to the state directory ${M}/state: no space left on device \\(ENOSPC\\); nothing in it was changed — free space on its disk`));
    assert.deepEqual(snapshot(copy), before, 'every file as it was');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(ih), 'the torrent is listed once the disk has room');
  });
});
