// `cascade ask` as a user runs it: a real CLI process against a running node that has a real
// problem — a tracker that refuses with no DHT, a seeder sending corrupt data, a full disk, a node
// only on loopback — answered with the specific finding, its evidence, and the steps as commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addMagnet, bareServer, closedPort, corrupt, isRoot, magnetWith, seeder, smallDisk, until, KiB, MiB,
} from '../../http/test/assistant-helpers.ts';
import { cascade, startServe } from './node-process.ts';
import { tempDir } from './helpers.ts';

const HASH = '3d'.repeat(20);

function askIn(stateDir: string, args: string[]) {
  return cascade(['ask', ...args, '--state-dir', stateDir]);
}

test('cascade ask: a tracker that refuses and no DHT → tracker-unreachable and no-dht, with the re-announce command', async (t) => {
  const s = await bareServer(t);
  const tracker = `http://127.0.0.1:${await closedPort()}/announce`;
  await addMagnet(s, magnetWith(HASH, 'stuck thing', tracker));
  await until('the failed announce', () => (s.node.session.get(HASH)?.trackers().some((x) => x.status === 'error') ? true : undefined));
  const dir = s.node.db.stateDir;

  const human = await askIn(dir, ['why', 'is', 'it', 'stuck', 'at', '0%', '--torrent', HASH.slice(0, 10)]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /What the checks found:/);
  assert.match(human.stdout, /✗ \[tracker-unreachable\] Its only tracker does not answer/);
  assert.ok(human.stdout.includes(tracker), human.stdout);
  assert.match(human.stdout, /ECONNREFUSED/);
  assert.match(human.stdout, /\[no-dht\]/);
  assert.match(human.stdout, new RegExp(`Re-announce now: cascade announce ${HASH.slice(0, 8)}`));
  assert.match(human.stdout, /answered by built-in/);

  const json = await askIn(dir, ['is the tracker down?', '--torrent', HASH, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const ids = (json.json.findings as { id: string }[]).map((f) => f.id);
  assert.ok(ids.includes('tracker-unreachable') && ids.includes('no-dht'), ids.join());
  assert.equal(typeof json.json.conversation, 'string');

  // A follow-up in that conversation ("and now?") is about the same torrent: its checks run again.
  const again = await askIn(dir, ['and now?', '--conversation', json.json.conversation, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json.conversation, json.json.conversation);
  assert.ok((again.json.findings as { id: string }[]).some((f) => f.id === 'tracker-unreachable'), JSON.stringify(again.json.findings));
});

test('cascade ask: bad input and no node are clear errors', async (t) => {
  const s = await bareServer(t);
  const dir = s.node.db.stateDir;
  const none = await askIn(dir, ['hello', '--torrent', 'ab'.repeat(20)]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no torrent/i);
  const badHash = await askIn(dir, ['hello', '--torrent', 'xyz']);
  assert.equal(badHash.code, 2);
  assert.match(badHash.stderr, /--torrent wants an infohash/);
  const long = await askIn(dir, ['x'.repeat(2001)]);
  assert.equal(long.code, 2);
  assert.match(long.stderr, /2000/);
  const missing = await cascade(['ask', '--state-dir', dir]);
  assert.equal(missing.code, 2);
  const offline = await cascade(['ask', 'hello', '--state-dir', tempDir(t)]);
  assert.equal(offline.code, 1);
  assert.match(offline.stderr, /needs a running node/);
  const llm = await cascade(['serve', '--llm-url', 'http://127.0.0.1:1/v1', '--state-dir', tempDir(t)]);
  assert.equal(llm.code, 2);
  assert.match(llm.stderr, /--llm-url and --llm-model go together/);
  const llmBad = await cascade(['serve', '--llm-url', 'ftp://x', '--llm-model', 'm', '--state-dir', tempDir(t)]);
  assert.equal(llmBad.code, 2);
  assert.match(llmBad.stderr, /http\(s\) URL/);
});

test('cascade ask: a seeder that sends corrupt pieces → hash-failures and banned-peers naming it', async (t) => {
  const seed = await seeder(t, 512 * KiB, 64 * KiB);
  corrupt(seed);
  const s = await bareServer(t);
  const banned = new Promise<void>((resolve) => s.node.watchers.push((tor) => (tor.on('peer-banned', () => resolve()), () => {})));
  await s.node.addWith(seed.torrent, {}, { peers: [seed.peer] });
  await banned;
  const r = await askIn(s.node.db.stateDir, ['download keeps failing, corrupt?', '--torrent', seed.infoHash.slice(0, 8)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[hash-failures\]/);
  assert.match(r.stdout, /\[banned-peers\] 1 peer sent corrupt data and was banned/);
  assert.ok(r.stdout.includes(seed.peer), r.stdout);
});

test('cascade ask: a full disk → disk-error and disk-full', async (t) => {
  assert.ok(isRoot, 'this test mounts a small tmpfs: run it as root (npm test does in CI)');
  const disk = smallDisk(t, '1m');
  const seed = await seeder(t, 4 * MiB, 256 * KiB);
  const s = await bareServer(t);
  const h = await s.node.addWith(seed.torrent, { savePath: disk }, { peers: [seed.peer] });
  await until('the torrent to stop on the full disk', () => (h.stats().state === 'error' ? true : undefined));
  const r = await askIn(s.node.db.stateDir, ['it says error, disk?', '--torrent', seed.infoHash, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const byId = new Map((r.json.findings as { id: string; evidence: string }[]).map((f) => [f.id, f]));
  assert.match(byId.get('disk-error')?.evidence ?? '', /ENOSPC|no space left/i);
  assert.ok(byId.get('disk-full')?.evidence.includes(disk), JSON.stringify(r.json.findings));
});

test('cascade ask: BitTorrent bound to 127.0.0.1 → local-only (nobody elsewhere can connect)', async (t) => {
  const seed = await seeder(t, 128 * KiB);
  const s = await bareServer(t, { btHost: '127.0.0.1' });
  await s.node.addWith(seed.torrent, {}, {});
  const r = await askIn(s.node.db.stateDir, ['nobody can connect to me, port forwarding?', '--torrent', seed.infoHash, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const local = (r.json.findings as { id: string; evidence: string }[]).find((f) => f.id === 'local-only');
  assert.ok(local, JSON.stringify(r.json));
  assert.ok(local.evidence.includes(`127.0.0.1:${s.node.session.port}`), local.evidence);
});

test('cascade serve --llm-url/--llm-model: GET /api/assistant names the model and host (the UI privacy line)', async (t) => {
  const node = await startServe(t, { args: ['--llm-url', 'http://127.0.0.1:9/v1', '--llm-model', 'tiny-test'] });
  const info = await (await node.api('/api/assistant')).json();
  assert.deepEqual(info.llm, { model: 'tiny-test', url: '127.0.0.1:9', local: false });
});
