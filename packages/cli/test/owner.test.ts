// Issue 44: the claim code (printed by `serve`, kept 0600 in the state dir, shown by `cascade
// claim-code` with or without a node, spent by the claim), roles given with `users add --role`,
// ownership handed over (`users transfer-owner`) and recovered by whoever holds the machine
// (`users reset-owner`: offline, or through the running node), and `token --rotate`, after which
// the old token is refused at once by the running node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { generateIdentity, signSignIn } from '@cascade/identity';
import { AuthStore, StateDB } from '@cascade/node';
import { tempDir } from './helpers.ts';
import { cascadeHere, startServe, NO_CHAIN } from './node-process.ts';

const CODE = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/;

test('offline: claim-code, roles, transfer-owner, reset-owner and token --rotate on a state dir', { timeout: 60_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const first = await cascadeHere(['claim-code', '--json', '--state-dir', stateDir]);
  assert.equal(first.code, 0, first.stderr);
  const code = first.json.code as string;
  assert.match(code, CODE);
  assert.equal(statSync(join(stateDir, 'claim-code')).mode & 0o777, 0o600);
  assert.equal((await cascadeHere(['claim-code', '--state-dir', stateDir])).stdout.split('\n')[0], code, 'the same code until it is spent');

  const owner = generateIdentity('owner');
  const next = generateIdentity('next');
  const viewer = generateIdentity('viewer');
  const db = await StateDB.open(stateDir);
  assert.ok(await new AuthStore(db).claimOwnership(owner.did));
  await db.close();
  const claimed = await cascadeHere(['claim-code', '--state-dir', stateDir]);
  assert.equal(claimed.code, 1);
  assert.match(claimed.stderr, new RegExp(`claimed: its owner is ${owner.did}`));

  const add = await cascadeHere(['users', 'add', viewer.did, '--role', 'viewer', '--json', '--state-dir', stateDir]);
  assert.equal(add.json.user.role, 'viewer', add.stderr);
  assert.equal((await cascadeHere(['users', 'add', viewer.did, '--role', 'admin', '--json', '--state-dir', stateDir])).json.user.role, 'admin', 'a new role for an existing member');
  assert.equal((await cascadeHere(['users', 'add', viewer.did, '--role', 'boss', '--state-dir', stateDir])).code, 2);
  assert.equal((await cascadeHere(['users', 'remove', viewer.did, '--role', 'admin', '--state-dir', stateDir])).code, 2);
  assert.equal((await cascadeHere(['users', 'add', owner.did, '--role', 'member', '--state-dir', stateDir])).code, 1, 'the owner keeps its role');

  const moved = await cascadeHere(['users', 'transfer-owner', next.did, '--json', '--state-dir', stateDir]);
  assert.equal(moved.code, 0, moved.stderr);
  assert.deepEqual([moved.json.owner.id, moved.json.previous], [next.did, owner.did]);
  const roles = (await cascadeHere(['users', 'list', '--json', '--state-dir', stateDir])).json.users.map((u: { id: string; role: string }) => [u.id, u.role]);
  assert.deepEqual(roles, [[next.did, 'owner'], [owner.did, 'admin'], [viewer.did, 'admin']]);

  const reset = await cascadeHere(['users', 'reset-owner', '--json', '--state-dir', stateDir]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(reset.json.removed, next.did);
  assert.match(reset.json.code, CODE);
  assert.notEqual(reset.json.code, code, 'a new code: an old copy claims nothing');
  assert.equal(readFileSync(join(stateDir, 'claim-code'), 'utf8').trim(), reset.json.code);
  assert.equal((await cascadeHere(['users', 'reset-owner', 'x', '--state-dir', stateDir])).code, 2);

  const before = (await cascadeHere(['token', '--state-dir', stateDir])).stdout.trim();
  const rotated = await cascadeHere(['token', '--rotate', '--json', '--state-dir', stateDir]);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.notEqual(rotated.json.token, before);
  assert.equal((await cascadeHere(['token', '--state-dir', stateDir])).stdout.trim(), rotated.json.token);
});

test('serve prints the claim code; the claim spends it; reset-owner and token --rotate go through the running node', { timeout: 120_000 }, async (t) => {
  const node = await startServe(t, { args: NO_CHAIN });
  const printed = node.events.find((e) => e.event === 'claim-code');
  assert.ok(printed, JSON.stringify(node.events));
  assert.equal((await node.here(['claim-code'])).stdout.split('\n')[0], printed.code, '`cascade claim-code` shows what serve printed');

  // A browser claims it with the code (the routes a page uses).
  const owner = generateIdentity('owner');
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => postJson(node.url, path, body, headers);
  const c = (await (await post('/api/auth/challenge', { method: 'did', did: owner.did })).json()) as { message: string };
  const v = await post('/api/auth/verify', { message: c.message, signature: signSignIn(owner, c.message) });
  const cookie = v.headers.get('set-cookie')!.split(';')[0]!;
  assert.equal((await post('/api/auth/claim', { code: printed.code }, { cookie })).status, 200);
  assert.equal(existsSync(join(node.stateDir, 'claim-code')), false);

  const reset = await node.here(['users', 'reset-owner', '--json']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(reset.json.removed, owner.did);
  assert.equal((await fetch(`${node.url}/api/auth/me`, { headers: { cookie } }).then((r) => r.json()) as { role: string; claimable: boolean }).claimable, true);
  assert.equal((await post('/api/auth/claim', { code: printed.code }, { cookie })).status, 403, 'the old code claims nothing');
  assert.equal((await post('/api/auth/claim', { code: reset.json.code }, { cookie })).status, 200);

  // Members changed by the CLI are told to the running node, which drops what they no longer may hold at once.
  const member = generateIdentity('member');
  assert.equal((await node.here(['users', 'add', member.did])).code, 0);
  assert.equal((await node.here(['users', 'remove', member.did])).code, 0);
  const told = () => node.events.filter((e) => e.event === 'members-changed').length;
  for (const until = Date.now() + 5000; told() < 2 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
  assert.equal(told(), 2, JSON.stringify(node.events.slice(-5)));

  const oldToken = node.token;
  assert.equal((await node.api('/api/torrents')).status, 200);
  const rotated = await node.here(['token', '--rotate', '--json']);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.equal(rotated.json.running, true);
  assert.equal((await fetch(`${node.url}/api/torrents`, { headers: { authorization: `Bearer ${oldToken}` } })).status, 401, 'the old token stops working at once');
  assert.equal((await fetch(`${node.url}/api/torrents`, { headers: { authorization: `Bearer ${rotated.json.token}` } })).status, 200);
  // Verbs still reach the node: control.json carries the new token.
  assert.equal((await node.here(['list', '--json'])).code, 0);
});

test('after reset-owner and a restart, serve says the owner was reset, not "First run"', { timeout: 120_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const owner = generateIdentity('owner');
  const db = await StateDB.open(stateDir);
  assert.ok(await new AuthStore(db).claimOwnership(owner.did));
  await db.close();
  const reset = await cascadeHere(['users', 'reset-owner', '--json', '--state-dir', stateDir]);
  assert.equal(reset.code, 0, reset.stderr);

  // The console a person reads (text), then the event a script reads (--json).
  const text = await serveUntil(t, stateDir, (out) => /claim code [0-9A-Z-]{19}/.test(out));
  assert.doesNotMatch(text, /First run/);
  assert.match(text, new RegExp(`no owner since \`cascade users reset-owner\` on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\(it was ${owner.did}\\).*claim code ${reset.json.code}`));
  const node = await startServe(t, { stateDir, args: NO_CHAIN });
  const event = node.events.find((e) => e.event === 'claim-code')!;
  assert.deepEqual([event.code, event.reason, event.removed], [reset.json.code, 'owner-reset', owner.did]);

  // The claim spends the code and the note of the reset with it.
  assert.equal(existsSync(join(stateDir, 'owner-reset')), true);
  const next = generateIdentity('next');
  const c = (await (await postJson(node.url, '/api/auth/challenge', { method: 'did', did: next.did })).json()) as { message: string };
  const v = await postJson(node.url, '/api/auth/verify', { message: c.message, signature: signSignIn(next, c.message) });
  assert.equal((await postJson(node.url, '/api/auth/claim', { code: event.code }, { cookie: v.headers.get('set-cookie')!.split(';')[0]! })).status, 200);
  assert.equal(existsSync(join(stateDir, 'owner-reset')), false);
  const fresh = join(tempDir(t), 'fresh');
  assert.match(await serveUntil(t, fresh, (out) => /claim code/.test(out)), /First run: .*claim code/);
});

function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, ...headers }, body: JSON.stringify(body) });
}

/** Runs `serve` in text mode until its output passes `done`, then stops it; returns what it printed. */
async function serveUntil(t: Parameters<typeof tempDir>[0], stateDir: string, done: (out: string) => boolean): Promise<string> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../src/main.ts'), 'serve', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht', '--state-dir', stateDir, ...NO_CHAIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CASCADE_PORT_MAPPING: 'off' },
  });
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (done(out)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code} before printing it: ${out}`)));
  });
  child.kill('SIGTERM');
  await once(child, 'exit');
  return out;
}
