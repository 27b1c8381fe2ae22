// `cascade serve` as a process: it prints where the web UI/API listen, serves them, answers verbs
// through the control endpoint, refuses a second node on the same state dir, and stops cleanly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const BASE = ['--json', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht'];

function cascade(args: string[]): { child: ChildProcess; lines: Record<string, any>[]; next: (event: string) => Promise<Record<string, any>> } {
  // The timeout is a safety net: a hung child must fail the test, not keep the test file alive.
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 45_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, CASCADE_PORT_MAPPING: 'off' }, // no UPnP/NAT-PMP to this machine's network
  });
  const lines: Record<string, any>[] = [];
  const waiters: [string, (e: Record<string, any>) => void][] = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const e = JSON.parse(buf.slice(0, nl)) as Record<string, any>;
      buf = buf.slice(nl + 1);
      lines.push(e);
      for (const w of waiters.filter(([name]) => name === e.event)) w[1](e);
    }
  });
  const next = (event: string) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const seen = lines.find((e) => e.event === event);
      if (seen) return resolve(seen);
      waiters.push([event, resolve]);
      child.once('exit', (code) => reject(new Error(`exited ${code} before "${event}": ${JSON.stringify(lines)}`)));
    });
  return { child, lines, next };
}

async function run(args: string[]): Promise<{ code: number | null; lines: Record<string, any>[] }> {
  const p = cascade(args);
  const [code] = (await once(p.child, 'exit')) as [number | null];
  return { code, lines: p.lines };
}

test('cascade serve: listening event with URL and ports, API, verbs via control, clean stop', { timeout: 60_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const node = cascade(['serve', ...BASE, '--state-dir', stateDir]);
  t.after(() => node.child.kill('SIGKILL'));
  const listening = await node.next('listening');
  assert.match(listening.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(listening.httpPort > 0 && listening.bittorrentPort > 0);
  assert.equal(listening.port, listening.bittorrentPort);
  await node.next('serving');

  // The API is the node's own: without its token (`cascade token`) nothing private answers.
  const tokenRun = await run(['token', '--json', '--state-dir', stateDir]);
  const token = tokenRun.lines[0]!.token as string;
  assert.match(token, /^[A-Za-z0-9_-]{32,}$/);
  const bearer = { authorization: `Bearer ${token}` };
  const publicHealth = (await (await fetch(`${listening.url}/api/health`)).json()) as Record<string, any>;
  assert.equal(publicHealth.bittorrentPort, listening.bittorrentPort);
  assert.equal(publicHealth.downloadDir, undefined);
  const health = (await (await fetch(`${listening.url}/api/health`, { headers: bearer })).json()) as Record<string, any>;
  assert.equal(health.downloadDir, join(stateDir, 'downloads'));

  const addBody = { method: 'POST', body: JSON.stringify({ uri: 'a'.repeat(40) }) };
  assert.equal((await fetch(`${listening.url}/api/torrents`, { ...addBody, headers: { 'content-type': 'application/json' } })).status, 401);
  const added = await fetch(`${listening.url}/api/torrents`, { ...addBody, headers: { 'content-type': 'application/json', ...bearer } });
  assert.equal(added.status, 201);
  // GET /api/identity is what `cascade identity` prints.
  const identity = (await run(['identity', '--json', '--state-dir', stateDir])).lines[0]!;
  const apiIdentity = (await (await fetch(`${listening.url}/api/identity`, { headers: bearer })).json()) as Record<string, any>;
  assert.deepEqual([apiIdentity.did, apiIdentity.address], [identity.did, identity.address]);
  const list = await run(['list', '--json', '--state-dir', stateDir]);
  assert.equal(list.code, 0);
  assert.equal(list.lines[0]!.online, true);
  assert.deepEqual(list.lines[0]!.torrents.map((e: { infoHash: string }) => e.infoHash), ['a'.repeat(40)]);

  const second = await run(['serve', ...BASE, '--state-dir', stateDir]);
  assert.equal(second.code, 1);
  assert.match(second.lines.find((e) => e.event === 'error')!.message, /already running/);

  node.child.kill('SIGTERM');
  const [code] = (await once(node.child, 'exit')) as [number | null];
  assert.equal(code, 0);
  const offline = await run(['list', '--json', '--state-dir', stateDir]);
  assert.equal(offline.lines[0]!.online, false);
  assert.equal(offline.lines[0]!.torrents.length, 1);
});

test('cascade serve: a busy HTTP port is a clear error', { timeout: 30_000 }, async (t) => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const r = await run(['serve', ...BASE, '--http-port', String(port), '--state-dir', join(tempDir(t), 'state')]);
  assert.equal(r.code, 1);
  assert.match(r.lines.find((e) => e.event === 'error')!.message, new RegExp(`HTTP port ${port} is already in use.*--http-port`));
});
