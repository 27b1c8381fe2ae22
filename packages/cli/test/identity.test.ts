// `cascade identity`: the node's did:key and Ethereum account, stable across runs, resting on the
// Ed25519 key the state DB already keeps (so a node upgraded to this keeps its key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { signingKeyFromDid, makeBinding, verifyBinding } from '@cascade/identity';
import { nodeIdentity, StateDB } from '@cascade/server/core';
import { tempDir } from './helpers.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const cascade = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('cascade identity prints the node did and address, the same on every run', (t) => {
  const stateDir = join(tempDir(t), 'state');
  const first = cascade(['identity', '--json', '--state-dir', stateDir]);
  assert.equal(first.status, 0, first.stderr);
  const id = JSON.parse(first.stdout) as { did: string; address: string };
  assert.deepEqual(Object.keys(id).sort(), ['address', 'did']);
  assert.match(id.did, /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/);
  assert.match(id.address, /^0x[0-9a-fA-F]{40}$/);
  assert.deepEqual(JSON.parse(cascade(['identity', '--json', '--state-dir', stateDir]).stdout), id);
  const text = cascade(['identity', '--state-dir', stateDir]);
  assert.match(text.stdout, new RegExp(`did: +${id.did}\\naddress: +${id.address}`));

  // The did is the node's existing long-term key, and the two halves bind to each other.
  const db = StateDB.open(stateDir);
  try {
    assert.equal(Buffer.from(signingKeyFromDid(id.did)).toString('hex'), db.identity.publicKeyHex);
    const node = nodeIdentity(db);
    assert.equal(node.address, id.address);
    assert.ok(verifyBinding(makeBinding(node)));
  } finally {
    db.close();
  }
});

test('cascade identity refuses arguments it does not take', () => {
  const r = cascade(['identity', 'extra']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unexpected argument/);
});
