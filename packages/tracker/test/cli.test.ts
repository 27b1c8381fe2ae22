// `cascade tracker`: argument parsing, what it prints, and a clean exit on SIGTERM / SIGINT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { parseTrackerArgs, CliUsageError } from '../index.ts';
import { CLI, NODE, freePort, spawnTracker } from './helpers.ts';

test('parses the documented flags, with defaults', () => {
  const d = parseTrackerArgs([]);
  assert.deepEqual(
    { host: d.opts.host, http: d.opts.httpPort, udp: d.opts.udpPort, ws: d.opts.ws, priv: d.opts.private, redis: d.opts.redis, json: d.json },
    { host: '::', http: 6969, udp: 6969, ws: false, priv: false, redis: undefined, json: false },
  );
  const all = parseTrackerArgs(['--http-port', '8000', '--udp-port', '8001', '--ws', '--private', '--redis', 'redis://127.0.0.1:6379', '--host', '127.0.0.1', '--json', '--rate-limit', '0', '--torrent', 'ab'.repeat(20)]);
  assert.equal(all.opts.httpPort, 8000);
  assert.equal(all.opts.udpPort, 8001);
  assert.equal(all.opts.ws, true);
  assert.equal(all.opts.private, true);
  assert.equal(all.opts.redis, 'redis://127.0.0.1:6379');
  assert.equal(all.opts.host, '127.0.0.1');
  assert.equal(all.opts.rateLimit, false);
  assert.deepEqual(all.opts.torrents, ['ab'.repeat(20)]);
  assert.equal(all.json, true);
  assert.equal(d.opts.udpIo, undefined);
  assert.equal(parseTrackerArgs(['--udp-io', 'dgram']).opts.udpIo, 'dgram');
  for (const bad of [['--http-port', 'x'], ['--udp-port', '70000'], ['--redis', 'http://x'], ['--bogus'], ['extra'], ['--torrent', 'abc'], ['--udp-io', 'epoll']]) {
    assert.throws(() => parseTrackerArgs(bad), CliUsageError, bad.join(' '));
  }
});

test('--json prints one listening line with every URL; SIGTERM closes it cleanly', async () => {
  const t = await spawnTracker(['--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0', '--ws']);
  assert.match(t.listening.http, /^http:\/\/127\.0\.0\.1:\d+\/announce$/);
  assert.match(t.listening.udp, /^udp:\/\/127\.0\.0\.1:\d+\/announce$/);
  assert.match(t.listening.ws!, /^ws:\/\/127\.0\.0\.1:\d+\/announce$/);
  const stats = (await (await fetch(t.listening.stats)).json()) as { mode: string };
  assert.equal(stats.mode, 'public');
  assert.equal(await t.stop(), 0);
  assert.deepEqual(t.stdout.join('').trim().split('\n').map((l) => JSON.parse(l).event), ['listening', 'closed']);
});

test('text output names the announce URLs; private mode adds the admin token; SIGINT stops it', async () => {
  const httpPort = await freePort();
  const child = spawn(NODE, [CLI, '--host', '127.0.0.1', '--http-port', String(httpPort), '--udp-port', '0', '--private', '--admin-token', 'tok123'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const end = Date.now() + 10_000;
  while (!out.includes('admin token') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, new RegExp(`http +http://127\\.0\\.0\\.1:${httpPort}/announce/<passkey>`));
  assert.match(out, /udp +udp:\/\/127\.0\.0\.1:\d+\/announce\/<passkey>/);
  assert.match(out, /admin token tok123/);
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);
});

test('usage errors exit 2 and an unreachable redis exits 1, both with a message', () => {
  const usage = spawnSync(NODE, [CLI, '--http-port', 'nope'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--http-port must be an integer/);
  const redis = spawnSync(NODE, [CLI, '--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0', '--redis', 'redis://127.0.0.1:1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(redis.status, 1);
  assert.match(redis.stderr, /cannot connect to redis/);
  const help = spawnSync(NODE, [CLI, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: cascade tracker/);
});

test('the standalone launcher (bin/cascade-tracker.js) serves, stops on SIGTERM, and exits 2 on a usage error', async () => {
  const BIN = new URL('../bin/cascade-tracker.js', import.meta.url).pathname;
  const usage = spawnSync(NODE, [BIN, '--udp-port', '70000'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--udp-port/);
  const child = spawn(NODE, [BIN, '--json', '--host', '127.0.0.1', '--http-port', '0', '--udp-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const end = Date.now() + 15_000;
  while (!out.includes('\n') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const listening = JSON.parse(out.split('\n')[0]!) as { event: string; stats: string };
  assert.equal(listening.event, 'listening');
  assert.equal(((await (await fetch(listening.stats)).json()) as { peers: number }).peers, 0);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'close')) as [number];
  assert.equal(code, 0);
  assert.match(out, /"event":"closed"/);
});
