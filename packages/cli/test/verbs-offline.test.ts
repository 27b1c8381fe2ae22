// Verbs with no running node: they work on the state DB directly (or say a node is needed).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runVerb, type VerbDeps } from '../src/commands/verbs.ts';
import { parseCommandLine } from '../src/parse/args.ts';
import { connectControl, controlPath, StateDB, NodeError } from '@cascade/node';
import { CliError, UsageError } from '../src/core/errors.ts';
import type { ParseLib } from '../src/download/source.ts';
import { renamedMetainfo } from '@cascade/engine';
import type { Metainfo } from '../src/core/engine.ts';
import { tempDir, capture, HASH_A, HASH_B } from './helpers.ts';

const HASH_C = 'cc'.repeat(20);

// Parsing is the engine's job; these stand-ins only recognise the fixtures below.
const fakeLib: ParseLib = {
  parseTorrent(bytes: Uint8Array): Metainfo {
    if (new TextDecoder().decode(bytes) !== 'FAKE-TORRENT') throw new Error('bencode: unexpected byte at 0');
    return {
      infoHash: new Uint8Array(20), infoHashHex: HASH_C, infoBytes: new Uint8Array(), name: 'movie.mkv', pieceLength: 16384,
      pieceHashes: new Uint8Array(40), pieceCount: 2, length: 20000, files: [{ path: ['movie.mkv'], length: 20000, offset: 0 }],
      multiFile: false, private: false, announce: [['http://127.0.0.1:1/announce']], urlList: [],
    };
  },
  parseInfoDict(): Metainfo {
    throw new Error('no info dicts in these fixtures');
  },
  renamedMetainfo,
  parseTorrentId(id: string) {
    const hash = /^[0-9a-f]{40}$/i.test(id) ? id.toLowerCase() : /^magnet:\?xt=urn:btih:([0-9a-f]{40})/.exec(id)?.[1];
    if (!hash) throw new Error(id.startsWith('magnet:') ? 'invalid magnet: no urn:btih infohash (xt)' : 'invalid torrent id');
    return { infoHashHex: hash, name: id.startsWith('magnet:') ? 'from magnet' : undefined, trackers: [], peers: [], webSeeds: [] };
  },
};

const deps: VerbDeps = { loadEngine: async () => fakeLib, connect: (dir) => connectControl(dir) };

function setup(t: Parameters<typeof tempDir>[0]) {
  const root = tempDir(t);
  const stateDir = join(root, 'state');
  const run = async (argv: string[], json = true) => {
    const c = capture(json);
    const code = await runVerb(parseCommandLine([...argv, ...(json ? ['--json'] : []), '--state-dir', stateDir]), c.out, deps);
    return { code, result: json ? c.events()[0]! : {}, stdout: c.stdout(), stderr: c.stderr() };
  };
  return { root, stateDir, run };
}

test('add queues torrents in the DB for the next serve', async (t) => {
  const { root, stateDir, run } = setup(t);
  const r1 = await run(['add', HASH_A, '-o', join(root, 'dl')]);
  assert.equal(r1.code, 0);
  assert.deepEqual(r1.result, { event: 'added', infoHash: HASH_A, name: null, savePath: join(root, 'dl'), queued: true });

  const torrentFile = join(root, 'movie.torrent');
  writeFileSync(torrentFile, 'FAKE-TORRENT');
  const r2 = await run(['add', torrentFile, '-o', root]);
  assert.equal(r2.result.infoHash, HASH_C);
  assert.equal(r2.result.name, 'movie.mkv');

  const r3 = await run(['add', `magnet:?xt=urn:btih:${HASH_B}&dn=x`, '--paused']);
  assert.equal(r3.result.infoHash, HASH_B);

  // Same torrent again: reported, not duplicated or reset.
  const again = await run(['add', HASH_A.toUpperCase()]);
  assert.equal(again.result.existing, true);

  const db = await StateDB.open(stateDir);
  const c = (await db.loadTorrent(HASH_C))!;
  assert.equal(c.sourceKind, 'torrent');
  assert.equal(new TextDecoder().decode(c.torrent!), 'FAKE-TORRENT');
  assert.equal(c.pieceCount, 2);
  assert.equal(db.getTorrent(HASH_B)!.status, 'paused');
  assert.equal(db.getTorrent(HASH_B)!.magnet, `magnet:?xt=urn:btih:${HASH_B}&dn=x`);
  assert.equal(db.getTorrent(HASH_A)!.status, 'queued');
  await db.close();

  // Human mode says why it was only queued.
  const human = await run(['add', HASH_C.replace(/c/g, 'd')], false);
  assert.match(human.stdout, /queued .*\n.*no running node.*cascade serve/);
});

test('bad sources are usage errors (exit 2)', async (t) => {
  const { root, run } = setup(t);
  // Bad input is the CLI's UsageError when the command line says it, the node's InvalidInput when
  // the node's model finds it: both end as exit 2.
  const usage = (re: RegExp) => (e: unknown) => (e instanceof UsageError || e instanceof NodeError) && e.exitCode === 2 && re.test(e.message);
  await assert.rejects(run(['add', 'not-a-thing']), usage(/not a \.torrent file, magnet link or infohash/));
  await assert.rejects(run(['add', 'missing.torrent']), usage(/no such torrent file/));
  await assert.rejects(run(['add', 'magnet:?dn=nohash']), usage(/^invalid magnet: no urn:btih/));
  const junk = join(root, 'junk.torrent');
  writeFileSync(junk, 'garbage');
  await assert.rejects(run(['add', junk]), usage(/junk\.torrent is not a valid \.torrent file: bencode/));
});

test('list and search read the DB, with progress from resume data', async (t) => {
  const { stateDir, run } = setup(t);
  const db = await StateDB.open(stateDir);
  await db.records.add({ infoHash: HASH_A, name: 'Big Buck Bunny', source: HASH_A, savePath: '/d', status: 'seeding', pieceCount: 4, length: 4096 });
  await db.records.add({ infoHash: HASH_B, name: 'Sintel', source: HASH_B, savePath: '/d', status: 'downloading', pieceCount: 8 });
  await db.resume.save(HASH_B, { have: new Uint8Array([0xf0]) });
  await db.close();

  const list = await run(['list']);
  assert.equal(list.result.online, false);
  const rows = list.result.torrents as { infoHash: string; state: string; progress: number; live: boolean }[];
  assert.deepEqual(rows.map((r) => [r.infoHash, r.state, r.progress, r.live]), [
    [HASH_A, 'seeding', 0, false],
    [HASH_B, 'downloading', 0.5, false],
  ]);

  const human = await run(['list'], false);
  assert.match(human.stdout, /no running node/);
  assert.match(human.stdout, /abababab\s+downloading\s+50\.0%.* Sintel/);

  // search --json: one array of {infoHash, infoHashV2, name, length, cids, publisher, providers}.
  // --no-dht: the library only (without it, search joins the DHT: seed-content-ids.test.ts).
  const bunny = (await run(['search', 'bunny', '--no-dht'])).result as unknown as Record<string, unknown>[];
  assert.deepEqual(Object.keys(bunny[0]!).sort(), ['cids', 'infoHash', 'infoHashV2', 'length', 'name', 'providers', 'publisher']);
  assert.deepEqual(bunny.map((r) => [r.name, r.length, r.infoHash]), [['Big Buck Bunny', 4096, HASH_A]]);
  assert.match(String(bunny[0]!.publisher), /^did:key:z6Mk/);
  assert.deepEqual((await run(['search', 'abab', '--no-dht'])).result.map((r: { name: string }) => r.name), ['Sintel']);
  const none = await run(['search', 'nothing here', '--no-dht']);
  assert.equal(none.code, 1);
  assert.deepEqual(none.result, []);
});

test('pause/resume mark the status; remove --delete-data deletes the files its metainfo lists, by the names a rename gave them', async (t) => {
  const { root, stateDir, run } = setup(t);
  const save = join(root, 'dl');
  mkdirSync(join(save, 'Album'), { recursive: true });
  writeFileSync(join(save, 'Album', 'track.flac'), 'x');
  writeFileSync(join(save, 'film.mkv'), 'x'); // movie.mkv, renamed
  writeFileSync(join(save, 'keep.txt'), 'x');
  const db = await StateDB.open(stateDir);
  await db.records.add({ infoHash: HASH_A, name: 'Album', source: HASH_A, savePath: save, status: 'seeding' });
  await db.records.add({ infoHash: HASH_B, name: null, source: HASH_B, savePath: save, status: 'downloading' });
  await db.records.add({ infoHash: HASH_C, name: 'movie.mkv', source: new TextEncoder().encode('FAKE-TORRENT'), savePath: save, status: 'seeding' });
  await db.records.setEdits(HASH_C, { renamedFiles: { 0: ['film.mkv'] } });
  await db.close();

  assert.equal((await run(['pause', 'aaaa'])).result.state, 'paused');
  assert.equal((await run(['resume', HASH_A])).result.state, 'queued');
  await assert.rejects(run(['pause', 'a']), (e: unknown) => (e instanceof UsageError || e instanceof NodeError) && e.exitCode === 2);
  await assert.rejects(run(['pause', 'ffff']), (e: unknown) => e instanceof NodeError && e.kind === 'not-found' && /no torrent with infohash starting with ffff/.test(e.message));

  const r = await run(['remove', 'cccc', '--delete-data']);
  assert.equal(r.result.path, join(save, 'film.mkv'));
  assert.equal(existsSync(join(save, 'film.mkv')), false, 'deleted by its new name (it stayed: only the .torrent names were known)');
  assert.equal(existsSync(join(save, 'keep.txt')), true, 'only the torrent’s own data goes');

  // No metadata → its files are unknown → refuse to guess what to delete (a folder named like it
  // may hold anything), and keep the record.
  await assert.rejects(run(['remove', HASH_A, '--delete-data']), /files are unknown/);
  assert.equal(existsSync(join(save, 'Album', 'track.flac')), true);
  await assert.rejects(run(['remove', HASH_B, '--delete-data']), /files are unknown/);
  assert.equal((await run(['remove', HASH_A])).result.removed, true);
  assert.equal((await run(['remove', HASH_B])).result.removed, true);
  assert.equal((await run(['list'])).result.torrents.length, 0);
});

test('live-only verbs say there is no running node; health is offline (exit 1)', async (t) => {
  const { stateDir, run } = setup(t);
  for (const argv of [['peers'], ['connect', HASH_A, '127.0.0.1:1'], ['announce']]) {
    await assert.rejects(run(argv), (e: unknown) => e instanceof CliError && e.exitCode === 1 && /no running node/.test(e.message));
  }
  const health = await run(['health']);
  assert.equal(health.code, 1);
  assert.deepEqual(health.result, { online: false, stateDir, torrents: 0 });
  const debug = await run(['debug']);
  assert.equal(debug.code, 0);
  assert.equal(debug.result.online, false);

  // A stale control.json (node killed with -9) is ignored.
  writeFileSync(controlPath(stateDir), JSON.stringify({ port: 1, pid: 2 ** 22 + 1, token: 'x' }));
  assert.equal((await run(['list'])).result.online, false);
});
