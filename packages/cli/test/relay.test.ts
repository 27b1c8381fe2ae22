// The onion commands (issue 14): `cascade relay` publishes to its directory and says where it
// listens; `serve --directory --relay` relays inside a node and reports it in `cascade health`;
// `add --private-discovery` hides a torrent of the running node; the options refuse half a setup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTracker } from '@cascade/tracker';
import { checkRelayList, signRegistration } from '@cascade/onion';
import { generateIdentity } from '@cascade/identity';
import { tempDir } from './helpers.ts';
import { cascade, ok, startServe, until } from './node-process.ts';

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;

test('half a private-discovery setup is a usage error', async () => {
  const relay = await cascade(['relay', '--port', '0']);
  assert.equal(relay.code, 2);
  assert.match(relay.stderr, /--directory/);
  const dl = await cascade(['download', randomBytes(20).toString('hex'), '--private-discovery', '--no-dht']);
  assert.equal(dl.code, 2);
  assert.match(dl.stderr, /--private-discovery needs --directory/);
  const bad = await cascade(['relay', '--directory', 'ftp://x', '--port', '0']);
  assert.equal(bad.code, 2);
});

test('cascade relay and serve --relay publish to the directory; health shows the relay and the circuits', { timeout: 90_000 }, async (t) => {
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
  t.after(() => tracker.close());
  const directory = `http://127.0.0.1:${tracker.httpPort}`;
  const listed = async () => checkRelayList(await (await fetch(`${directory}/relays`)).json()).relays;

  const child = spawn(process.execPath, [MAIN, 'relay', '--host', '127.0.0.91', '--directory', directory, '--state-dir', join(tempDir(t), 'r'), '--json', '--no-dht'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const ev = await until('the relay listening', async () => {
    const line = out.split('\n').find((l) => l.includes('"listening"'));
    return line ? (JSON.parse(line) as Record<string, any>) : undefined;
  });
  assert.match(ev.tcp, /^127\.0\.0\.91:\d+$/);
  assert.equal(ev.exit, true);
  assert.ok((await listed()).some((r) => r.id === ev.id), 'the directory lists the relay');

  const node = await startServe(t, { args: ['--no-chain', '--directory', directory, '--relay', '--host', '127.0.0.92'] });
  const nodeRelay = node.events.find((e) => e.event === 'relay');
  assert.ok(nodeRelay, JSON.stringify(node.events));
  await until('both relays listed', async () => ((await listed()).length === 2 ? true : undefined));
  // A third relay, so a circuit of three distinct hosts exists.
  const third = spawn(process.execPath, [MAIN, 'relay', '--host', '127.0.0.93', '--directory', directory, '--state-dir', join(tempDir(t), 'r3'), '--json', '--no-dht'], { stdio: 'ignore' });
  t.after(() => void third.kill('SIGKILL'));
  await until('three relays listed', async () => ((await listed()).length === 3 ? true : undefined));

  const ih = randomBytes(20).toString('hex');
  const add = await ok(node, ['add', `magnet:?xt=urn:btih:${ih}&tr=${encodeURIComponent(tracker.httpAnnounceUrl)}`, '--private-discovery', '--json']);
  assert.equal(add.json.infoHash, ih);
  const detail = (await (await node.api(`/api/torrents/${ih}`)).json()) as { privateDiscovery: boolean };
  assert.equal(detail.privateDiscovery, true);
  const health = await until('a circuit built', async () => {
    const h = (await ok(node, ['health', '--json'])).json;
    return h.onion?.circuits.built >= 1 ? h : undefined;
  });
  assert.equal(health.onion.relay.exit, true);
  assert.equal(health.onion.relay.tabs, 0);
  // A browser tab that relays registers at the node relay's signalling endpoint (as a page would).
  const signal = (await listed()).find((r) => r.tcp?.startsWith('127.0.0.92:'))?.signal;
  assert.ok(signal, 'the node relay offers signalling for tab relays');
  const tab = new WebSocket(signal);
  t.after(() => tab.close());
  const tabId = generateIdentity('tab');
  tab.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data)) as { type: string; nonce?: string };
    if (m.type === 'challenge') tab.send(JSON.stringify(signRegistration(tabId, m.nonce!)));
  });
  await until('the tab registered', async () => ((await ok(node, ['health', '--json'])).json.onion?.relay.tabs === 1 ? true : undefined));
  const text = (await ok(node, ['health'])).stdout;
  assert.match(text, /onion {4}private discovery for torrents that ask; 3 relays listed/);
  assert.match(text, /relaying on 127\.0\.0\.92:\d+ \(discovery exit\), \d+ circuits through it, signalling for 1 tab relay\n/);
  child.kill('SIGTERM');
  await once(child, 'exit');
});
