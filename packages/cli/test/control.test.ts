// The control RPC layer against a fake SessionHandle (a plain object): no engine, no network
// beyond 127.0.0.1.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { ControlServer, ControlClient, connectControl, readControlInfo, controlPath, CascadeNode, StateDB, loadModelState, NodeError, loadOrCreateApiToken } from '@cascade/node';
import { createTorrent } from '@cascade/engine';
import { join } from 'node:path';
import { runVerb } from '../src/commands/verbs.ts';
import { nodePlugins } from '../src/core/node-plugins.ts';
import { parseCommandLine } from '../src/parse/args.ts';
import { tempDir, capture, fakeSession, FakeTorrent, HASH_A, HASH_B } from './helpers.ts';

async function startFakeNode(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const a = new FakeTorrent(HASH_A, 'alpha');
  a.peerList = [
    { address: '127.0.0.1:7000', client: 'Test 1.0', transport: 'tcp', relayed: false, downloaded: 10, uploaded: 0, downloadSpeed: 5,
      uploadSpeed: 0, progress: 1, choked: false, interested: true, amChoking: false, amInterested: false, optimistic: false, source: 'manual' },
  ];
  const fake = fakeSession([a]);
  const db = await StateDB.open(dir);
  const { out } = capture(true);
  // Its content ids as seed and download hand them in: loaded by the first search.
  const node = new CascadeNode({ session: fake.session, db, modelState: await loadModelState(db.store), out, ledgerFlushMs: 0, contentIds: 'on-demand', plugins: nodePlugins });
  await node.record(a, new Uint8Array([1]), { savePath: '/data' });
  node.track(a);
  await node.startControl(true);
  t.after(() => node.stop());
  return { dir, node, fake, a, db };
}

test('control.json advertises port, pid and token with mode 0600', async (t) => {
  const { dir, node } = await startFakeNode(t);
  const info = readControlInfo(dir)!;
  assert.equal(info.pid, process.pid);
  assert.equal(info.port, node.control!.port);
  // The control endpoint's token is the node's API token (cascade token).
  assert.equal(info.token, loadOrCreateApiToken(dir));
  assert.equal(statSync(controlPath(dir)).mode & 0o777, 0o600);
});

test('RPC methods drive the session and the DB', async (t) => {
  const { dir, fake, a, db } = await startFakeNode(t);
  const client = (await connectControl(dir))!;
  assert.ok(client);

  const health = await client.call<Record<string, unknown>>('health');
  assert.equal(health.online, true);
  assert.equal(health.port, 6881);
  assert.equal(health.dhtNodes, 3);
  assert.equal(health.nodeId, db.identity.publicKeyHex);

  const list = await client.call<{ torrents: { infoHash: string; name: string; live: boolean; savePath: string }[] }>('list');
  assert.deepEqual(list.torrents.map((x) => [x.infoHash, x.name, x.live, x.savePath]), [[HASH_A, 'alpha', true, '/data']]);

  const peers = await client.call<{ torrents: { peers: { address: string }[] }[] }>('peers', { infoHash: 'aaaa' });
  assert.equal(peers.torrents[0]!.peers[0]!.address, '127.0.0.1:7000');

  await client.call('connect', { infoHash: HASH_A, address: '127.0.0.1:7001' });
  assert.deepEqual(a.addedPeers, ['127.0.0.1:7001']);

  const ann = await client.call<{ torrents: { trackers: unknown[] }[] }>('announce', {});
  assert.equal(a.announced, 1);
  assert.equal(ann.torrents[0]!.trackers.length, 1);

  assert.deepEqual(await client.call('pause', { infoHash: 'aaaa' }), { infoHash: HASH_A, state: 'paused' });
  assert.equal(db.getTorrent(HASH_A)!.status, 'paused');
  await client.call('resume', { infoHash: HASH_A });
  assert.equal(a.state, 'downloading');
  assert.equal(db.getTorrent(HASH_A)!.status, 'downloading');

  // add: .torrent bytes travel base64; the node records the torrent in the library. (The node
  // parses them first to check no stored torrent owns its files: they must be a real .torrent.)
  const src = join(tempDir(t), 'b.bin');
  writeFileSync(src, 'b'.repeat(5000));
  const bytes = (await createTorrent(src)).torrent;
  const added = await client.call<{ infoHash: string; name: string }>('add', {
    torrent: Buffer.from(bytes).toString('base64'),
    savePath: '/new',
  });
  assert.equal(added.infoHash, HASH_B);
  // The engine gets a library torrent paused; the queue starts it (it has a slot).
  assert.deepEqual(fake.calls.add.at(-1), [new Uint8Array(bytes), { savePath: '/new', paused: true }]);
  assert.equal(db.getTorrent(HASH_B)!.status, 'downloading');
  assert.equal(db.getTorrent(HASH_B)!.savePath, '/new');
  // A repeat add (client sends the infohash it parsed) does not touch the session.
  const again = await client.call<{ existing: boolean }>('add', { source: HASH_B, infoHash: HASH_B, savePath: '/new' });
  assert.equal(again.existing, true);
  assert.equal(fake.calls.add.length, 1);

  // Search covers live and stored torrents.
  const found = await client.call<{ torrents: { infoHash: string }[] }>('search', { text: 'ALPH' });
  assert.deepEqual(found.torrents.map((x) => x.infoHash), [HASH_A]);

  const debug = await client.call<{ db: { torrents: number } }>('debug');
  assert.equal(debug.db.torrents, 2);

  // The ledger follows tracked torrents' transfer events.
  a.emit('transfer', { infoHashHex: HASH_A, peer: '127.0.0.1:7000', peerId: 'x', direction: 'down', bytes: 99 });
  await client.call('remove', { infoHash: HASH_A, deleteData: true });
  assert.deepEqual(fake.calls.remove, [[HASH_A, { deleteData: true }]]);
  assert.equal(db.getTorrent(HASH_A), undefined);
});

test('errors keep their exit code across the wire', async (t) => {
  const { dir } = await startFakeNode(t);
  const client = (await connectControl(dir))!;
  await assert.rejects(client.call('pause', { infoHash: 'ffff' }), (e: unknown) => e instanceof NodeError && e.exitCode === 1 && /no torrent/.test(e.message));
  await assert.rejects(client.call('pause', { infoHash: 'zz' }), (e: unknown) => e instanceof NodeError && e.exitCode === 2);
  await assert.rejects(client.call('nope'), (e: unknown) => e instanceof NodeError && e.exitCode === 2 && /unknown method/.test(e.message));
  await assert.rejects(client.call('__proto__'), /unknown method/);
  await assert.rejects(client.call('list', { limit: -1 }), (e: unknown) => e instanceof NodeError && e.exitCode === 2 && /"limit" must be a whole number/.test(e.message));
  assert.equal((await client.call<{ torrents: unknown[]; total: number }>('list', { limit: 0 })).total, 1);
});

test('a wrong token is rejected; connectControl then reports no node', async (t) => {
  const { dir } = await startFakeNode(t);
  const info = readControlInfo(dir)!;
  const bad = new ControlClient({ ...info, token: 'f'.repeat(64) });
  await assert.rejects(bad.call('list'));
  writeFileSync(controlPath(dir), JSON.stringify({ ...info, token: 'x' }));
  assert.equal(await connectControl(dir), undefined);
});

test('stale control.json (refused port, dead pid, garbage) means offline', async (t) => {
  const dir = tempDir(t);
  assert.equal(await connectControl(dir), undefined, 'no file');
  // A port nobody listens on: grab a free one and close it.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  writeFileSync(controlPath(dir), JSON.stringify({ port, pid: process.pid, token: 'a' }));
  assert.equal(await connectControl(dir), undefined, 'connection refused');
  writeFileSync(controlPath(dir), JSON.stringify({ port, pid: 2 ** 22 + 12345, token: 'a' }));
  assert.equal(await connectControl(dir), undefined, 'dead pid');
  writeFileSync(controlPath(dir), '{not json');
  assert.equal(await connectControl(dir), undefined, 'garbage');
});

test('close() removes control.json only while it is still ours', async (t) => {
  const dir = tempDir(t);
  const s1 = await ControlServer.start(dir, { ping: () => 'pong' });
  await s1.close();
  assert.equal(existsSync(controlPath(dir)), false);
  const s2 = await ControlServer.start(dir, { ping: () => 'pong' });
  const s3 = await ControlServer.start(dir, { ping: () => 'pong' }); // a newer node took over
  await s2.close();
  assert.equal(readControlInfo(dir)?.token, s3.token);
  await s3.close();
  assert.equal(existsSync(controlPath(dir)), false);
});

test('verbs go through the running node', async (t) => {
  const { dir, a } = await startFakeNode(t);
  const run = async (...argv: string[]) => {
    const c = capture(true);
    const code = await runVerb(parseCommandLine([...argv, '--json', '--state-dir', dir]), c.out);
    return { code, result: c.events()[0]! };
  };
  const list = await run('list');
  assert.equal(list.code, 0);
  assert.equal(list.result.online, true);
  assert.equal(list.result.torrents[0].infoHash, HASH_A);
  assert.equal((await run('peers')).result.torrents[0].peers.length, 1);
  assert.equal((await run('connect', 'aaaa', '127.0.0.1:9')).code, 0);
  assert.deepEqual(a.addedPeers, ['127.0.0.1:9']);
  assert.equal((await run('health')).result.online, true);
  assert.equal((await run('pause', HASH_A)).result.state, 'paused');
  const found = (await run('search', 'alpha')).result as unknown as { infoHash: string; name: string }[];
  assert.deepEqual(found.map((r) => [r.infoHash, r.name]), [[HASH_A, 'alpha']]);
  assert.equal((await run('search', 'omega')).code, 1);
});

test('CascadeNode.stop closes the session, removes control.json, is idempotent', async (t) => {
  const dir = tempDir(t);
  const fake = fakeSession();
  const db = await StateDB.open(dir);
  const node = new CascadeNode({ session: fake.session, db, modelState: await loadModelState(db.store), out: capture(true).out, ledgerFlushMs: 0 });
  await node.startControl(true);
  assert.ok(existsSync(controlPath(dir)));
  await Promise.all([node.stop(), node.stop()]);
  assert.equal(fake.calls.closed, 1);
  assert.equal(existsSync(controlPath(dir)), false);
});
