// `cascade token` and `cascade users`: the API token kept in the state dir (0600, the same across
// runs), and members added, listed and removed by did:key or Ethereum address, with clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity } from '@cascade/identity';
import { AuthStore, StateDB } from '@cascade/node';
import { tempDir } from './helpers.ts';
import { cascadeHere } from './node-process.ts';

/** The verb run inside this process (cascadeHere: the main() a `cascade` process runs, its output
 *  and exit code), not as a process of its own: ~0.5 CPU-s of module loading each, 16 times here. */
const cascade = async (args: string[]) => {
  const r = await cascadeHere(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
};

test('cascade token: made once, kept 0600 in the state dir, printed the same every time', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const a = await cascade(['token', '--state-dir', stateDir]);
  assert.equal(a.status, 0, a.stderr);
  const token = a.stdout.trim();
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(statSync(join(stateDir, 'api-token')).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse((await cascade(['token', '--json', '--state-dir', stateDir])).stdout), { token });
  assert.equal((await cascade(['token', 'extra', '--state-dir', stateDir])).status, 2);
});

test('cascade users: add, list and remove members; the owner stays; bad ids are usage errors', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const owner = generateIdentity('owner');
  const member = generateIdentity('member');
  const db = await StateDB.open(stateDir);
  assert.ok(await new AuthStore(db).claimOwnership(owner.did));
  await db.close();

  const add = await cascade(['users', 'add', member.did, '--json', '--state-dir', stateDir]);
  assert.equal(add.status, 0, add.stderr);
  assert.equal(JSON.parse(add.stdout).user.id, member.did);
  const address = '0x' + 'Ab'.repeat(20);
  assert.equal((await cascade(['users', 'add', address, '--state-dir', stateDir])).status, 0);
  const again = await cascade(['users', 'add', address.toLowerCase(), '--state-dir', stateDir]);
  assert.match(again.stdout, /already a member/);

  const list = JSON.parse((await cascade(['users', 'list', '--json', '--state-dir', stateDir])).stdout) as { users: { id: string; role: string }[] };
  assert.deepEqual(list.users.map((u) => [u.id, u.role]), [[owner.did, 'owner'], [member.did, 'member'], [address.toLowerCase(), 'member']]);
  assert.match((await cascade(['users', '--state-dir', stateDir])).stdout, new RegExp(`owner +${owner.did}`));

  const removeOwner = await cascade(['users', 'remove', owner.did, '--state-dir', stateDir]);
  assert.equal(removeOwner.status, 1);
  assert.match(removeOwner.stderr, /owner cannot be removed/);
  assert.equal((await cascade(['users', 'remove', address, '--state-dir', stateDir])).status, 0);
  const gone = await cascade(['users', 'remove', address, '--state-dir', stateDir]);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /not a member/);

  for (const bad of [['users', 'add'], ['users', 'add', 'root'], ['users', 'add', 'did:key:z6Mknope'], ['users', 'frob'], ['users', 'list', 'x']]) {
    const r = await cascade([...bad, '--state-dir', stateDir]);
    assert.equal(r.status, 2, bad.join(' '));
    assert.match(r.stderr, /cascade: /);
  }
});
