// `cascade identity`: the node's did:key and Ethereum account, stable across runs, resting on the
// Ed25519 key the state DB already keeps (so a node upgraded to this keeps its key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { signingKeyFromDid, makeBinding, verifyBinding } from '@cascade/identity';
import { nodeIdentity, StateDB } from '@cascade/node';
import { tempDir } from './helpers.ts';
import { cascadeHere } from './node-process.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
/** The verb run inside this process (cascadeHere: the main() a `cascade` process runs, its output
 *  and exit code), not as a process of its own (~0.5 CPU-s of module loading each). The passphrase
 *  on stdin is the one case run as a process (below). */
const cascade = async (args: string[]) => {
  const r = await cascadeHere(args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
};

test('cascade identity prints the node did and address, the same on every run', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const first = await cascade(['identity', '--json', '--state-dir', stateDir]);
  assert.equal(first.status, 0, first.stderr);
  const id = JSON.parse(first.stdout) as { did: string; address: string };
  assert.deepEqual(Object.keys(id).sort(), ['address', 'did']);
  assert.match(id.did, /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/);
  assert.match(id.address, /^0x[0-9a-fA-F]{40}$/);
  assert.deepEqual(JSON.parse((await cascade(['identity', '--json', '--state-dir', stateDir])).stdout), id);
  const text = await cascade(['identity', '--state-dir', stateDir]);
  assert.match(text.stdout, new RegExp(`did: +${id.did}\\naddress: +${id.address}`));

  // The did is the node's existing long-term key, and the two halves bind to each other.
  const db = await StateDB.open(stateDir);
  try {
    assert.equal(Buffer.from(signingKeyFromDid(id.did)).toString('hex'), db.identity.publicKeyHex);
    const node = nodeIdentity(db);
    assert.equal(node.address, id.address);
    assert.ok(verifyBinding(makeBinding(node)));
  } finally {
    await db.close();
  }
});

test('cascade identity refuses arguments it does not take', async () => {
  const r = await cascade(['identity', 'export', 'a', 'b']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unexpected argument/);
  const unknown = await cascade(['identity', 'extra']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown identity action "extra"/);
  assert.equal((await cascade(['identity', 'import'])).status, 2);
});

test('cascade identity export/import: a passphrase-encrypted file moves the node identity to another state dir', async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const file = join(dir, 'node-identity.json');
  // Inside this process too, with the passphrase in its environment for the verb's run only.
  const run = async (args: string[], passphrase = 'correct horse battery') => {
    process.env.CASCADE_PASSPHRASE = passphrase;
    try {
      return await cascade(args);
    } finally {
      delete process.env.CASCADE_PASSPHRASE;
    }
  };
  const idA = JSON.parse((await run(['identity', '--json', '--state-dir', a])).stdout) as { did: string; address: string };
  const exp = await run(['identity', 'export', file, '--state-dir', a]);
  assert.equal(exp.status, 0, exp.stderr);
  assert.equal((await run(['identity', 'export', file, '--state-dir', a])).status, 2, 'never overwrites');
  assert.equal((await run(['identity', 'export', join(dir, 'short.json'), '--state-dir', a], 'short')).status, 2);

  const before = JSON.parse((await run(['identity', '--json', '--state-dir', b])).stdout) as { did: string };
  assert.notEqual(before.did, idA.did);
  const wrong = await run(['identity', 'import', file, '--state-dir', b], 'wrong passphrase');
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /cannot import/);
  assert.equal(JSON.parse((await run(['identity', '--json', '--state-dir', b])).stdout).did, before.did, 'a failed import changes nothing');
  const garbage = join(dir, 'garbage.json');
  (await import('node:fs')).writeFileSync(garbage, '{"format":"nope"}');
  assert.equal((await run(['identity', 'import', garbage, '--state-dir', b])).status, 1);

  const imp = await run(['identity', 'import', file, '--json', '--state-dir', b]);
  assert.equal(imp.status, 0, imp.stderr);
  assert.deepEqual(JSON.parse((await run(['identity', '--json', '--state-dir', b])).stdout), idA);
  // The passphrase may also come on stdin.
  const piped = spawnSync(process.execPath, [MAIN, 'identity', 'import', file, '--state-dir', join(dir, 'c')], {
    encoding: 'utf8', input: 'correct horse battery\n', env: { ...process.env, CASCADE_PASSPHRASE: undefined },
  });
  assert.equal(piped.status, 0, piped.stderr);
});
