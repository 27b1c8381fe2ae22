// `cascade tracker --turn-url … --turn-secret …` (issue 23): the tracker hands out TURN credentials
// in coturn's shared-secret scheme at /ice-servers; the secret may come from $CASCADE_TURN_SECRET
// instead of the command line; a TURN URL without a secret, or a malformed one, is a usage error.
// The tracker `cascade serve` starts answers STUN and /ice-servers too.
// (That the credentials work against a real coturn: packages/tracker/test/turn-coturn.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { parseStunUrl, stunProbe } from '@cascade/reachability';
import { startServe } from './node-process.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
// No CASCADE_TURN_SECRET from the developer's shell leaks into the tests that must not have one.
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CASCADE_TURN_SECRET'));

interface Listening {
  event: string;
  iceServers: string;
  stun: string;
}

/** Runs `cascade tracker --json …` until its listening line; stop() sends SIGTERM and waits. */
async function tracker(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [MAIN, 'tracker', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, CASCADE_HOME: '/nonexistent' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  const end = Date.now() + 20_000;
  while (!out.includes('\n') && child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.ok(out.includes('\n'), `no listening line: ${err}`);
  const listening = JSON.parse(out.split('\n')[0]!) as Listening;
  return {
    listening,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      return code;
    },
  };
}

async function iceServers(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  return (await res.json()) as { iceServers: { urls: string | string[]; username?: string; credential?: string }[]; ttl: number };
}

test('--turn-url and --turn-secret: /ice-servers hands out the tracker\'s STUN and minted TURN credentials', async (t) => {
  const urls = ['turn:127.0.0.73:3478', 'turn:127.0.0.73:3478?transport=tcp'];
  const tr = await tracker(['--host', '127.0.0.71', '--http-port', '0', '--udp-port', '0', '--turn-url', urls[0]!, '--turn-url', urls[1]!, '--turn-secret', 'cli-secret', '--turn-ttl', '7200'], BASE_ENV);
  t.after(() => tr.stop());
  assert.match(tr.listening.iceServers, /^http:\/\/127\.0\.0\.71:\d+\/ice-servers$/);
  assert.match(tr.listening.stun, /^stun:127\.0\.0\.71:\d+$/);
  const body = await iceServers(tr.listening.iceServers);
  assert.equal(body.ttl, 7200);
  assert.deepEqual(body.iceServers[0], { urls: tr.listening.stun });
  const turn = body.iceServers[1]!;
  assert.deepEqual(turn.urls, urls);
  const expiry = Number(turn.username!.split(':')[0]);
  assert.ok(Math.abs(expiry - (Date.now() / 1000 + 7200)) < 5, 'expires after --turn-ttl');
  assert.equal(turn.credential, createHmac('sha1', 'cli-secret').update(turn.username!).digest('base64'));
  assert.equal(await tr.stop(), 0);
});

test('the secret from $CASCADE_TURN_SECRET: nothing secret on the command line', async (t) => {
  const tr = await tracker(['--host', '127.0.0.72', '--http-port', '0', '--udp-port', '0', '--turn-url', 'turns:turn.example:5349'], { ...BASE_ENV, CASCADE_TURN_SECRET: 'env-secret' });
  t.after(() => tr.stop());
  const turn = (await iceServers(tr.listening.iceServers)).iceServers[1]!;
  assert.deepEqual(turn.urls, ['turns:turn.example:5349']);
  assert.equal(turn.credential, createHmac('sha1', 'env-secret').update(turn.username!).digest('base64'));
});

test('TURN usage errors exit 2 with a message that names the problem; help lists the options', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = BASE_ENV) => spawnSync(process.execPath, [MAIN, 'tracker', '--http-port', '0', '--udp-port', '0', '--host', '127.0.0.74', ...args], { encoding: 'utf8', timeout: 30_000, env });
  const noSecret = run(['--turn-url', 'turn:127.0.0.73:3478']);
  assert.equal(noSecret.status, 2, noSecret.stderr);
  assert.match(noSecret.stderr, /--turn-url needs .*--turn-secret S or \$CASCADE_TURN_SECRET/);
  for (const [bad, why] of [
    ['turn://h:3478', /--turn-url turn:\/\/h:3478: a TURN URL has no "\/\/"/],
    ['turn:u:p@h:3478', /--turn-url turn:u:p@h:3478: no user or password/],
    ['http://h', /--turn-url http:\/\/h: not a TURN URL/],
    ['turn:h:3478?transport=sctp', /not a TURN URL \(turn:host:port or turns:host:port, optionally \?transport=udp or \?transport=tcp\)/],
  ] as const) {
    const r = run(['--turn-url', bad, '--turn-secret', 's']);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, why, bad);
  }
  const secretAlone = run(['--turn-secret', 's']);
  assert.equal(secretAlone.status, 2);
  assert.match(secretAlone.stderr, /--turn-secret needs at least one --turn-url/);
  const ttl = run(['--turn-url', 'turn:h:1', '--turn-secret', 's', '--turn-ttl', '5']);
  assert.equal(ttl.status, 2);
  assert.match(ttl.stderr, /--turn-ttl must be an integer from 60/);

  const help = spawnSync(process.execPath, [MAIN, 'tracker', '--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(help.status, 0);
  for (const o of ['--turn-url', '--turn-secret', '--turn-ttl', 'CASCADE_TURN_SECRET', '/ice-servers', 'STUN']) assert.ok(help.stdout.includes(o), `help names ${o}`);
});

test('the tracker built into `cascade serve` lists its STUN service at /ice-servers, and answers STUN there', async (t) => {
  const node = await startServe(t, { args: ['--no-chain'] });
  t.after(() => node.stop());
  const body = await iceServers(`http://127.0.0.1:${node.trackerHttpPort}/ice-servers`);
  assert.equal(body.iceServers.length, 1, 'STUN only: serve configures no TURN');
  const stunUrl = body.iceServers[0]!.urls as string;
  assert.match(stunUrl, /^stun:127\.0\.0\.1:\d+$/);
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.75', r));
  t.after(() => s.close());
  const answer = await stunProbe(s, parseStunUrl(stunUrl));
  assert.deepEqual(answer.mapped, { family: 4, address: '127.0.0.75', port: s.address().port });
  assert.equal(answer.software, 'cascade-tracker');
});
