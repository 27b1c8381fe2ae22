// Issue 15: three `cascade serve` nodes in a DHT of loopback nodes only. A shares a file; C, whose
// only bootstrap is B's DHT port, finds it by keyword, by content id and by infohash with
// `cascade search --json`, A as publisher and provider. Forged records are refused: a bad signature
// by the storing node, a content id said to be in a torrent whose files A holds and hash otherwise by A.
// The verbs through the running nodes run inside the test's process (okHere / node.here: the CLI's
// own main(), without a process's module loading each).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from '@cascade/engine';
import { generateIdentity } from '@cascade/identity';
import { cidFromSha256, DhtRecords, GET_METHOD, PUT_METHOD, recordKey, signRecord, targetOf, type DhtTransport } from '@cascade/content';
import type { SearchRow } from '@cascade/shapes';
import { tempDir } from './helpers.ts';
import { okHere, startServe, until, type ServeNode, NO_CHAIN } from './node-process.ts';

const HOST = '127.0.0.1';

type Row = SearchRow;

test('three nodes: C finds what A shares by keyword, content id and infohash through B; forgeries refused', { timeout: 180_000 }, async (t) => {
  // B is the first node: it bootstraps from a socket of ours that never answers (never the public routers).
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, HOST, r));
  t.after(() => silent.close());
  const serve = (bootstrap: string) => startServe(t, { dhtBootstrap: [bootstrap], args: ['--host', HOST, ...NO_CHAIN] });
  const b = await serve(`${HOST}:${silent.address().port}`);
  const dhtPortOf = async (n: ServeNode) => ((await (await n.api('/api/health')).json()) as { ports: { dht: number } }).ports.dht;
  const bDht = `${HOST}:${await dhtPortOf(b)}`;
  const [a, c] = await Promise.all([serve(bDht), serve(bDht)]);

  // A shares a file: create, then add with its data in place (verified → complete → content id → published).
  const dir = tempDir(t);
  mkdirSync(join(dir, 'data'));
  const bytes = Buffer.alloc(300_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
  writeFileSync(join(dir, 'data', 'Aurora Borealis Timelapse.mp4'), bytes);
  const cid = cidFromSha256(createHash('sha256').update(bytes).digest());
  await okHere(a, ['create', join(dir, 'data', 'Aurora Borealis Timelapse.mp4'), '-o', join(dir, 'aurora.torrent')]);
  const added = await okHere(a, ['add', join(dir, 'aurora.torrent'), '--save-path', join(dir, 'data'), '--json']);
  const infoHash = added.json.infoHash as string;
  assert.match(infoHash, /^[0-9a-f]{40}$/);

  // A's detail shows the file's content id once it holds it complete.
  const files = await until('the content id in A\'s detail', async () => {
    const d = (await (await a.api(`/api/torrents/${infoHash}`)).json()) as { files: { cid: string | null }[] | null };
    return d.files?.[0]?.cid ? d.files : undefined;
  });
  assert.equal(files[0]!.cid, cid);
  const aDid = (await okHere(a, ['identity', '--json'])).json.did as string;

  const search = async (n: ServeNode, q: string): Promise<Row[]> => {
    const r = await n.here(['search', q, '--json']);
    if (r.code !== 0 && r.code !== 1) throw new Error(`search exited ${r.code}: ${r.stderr}`);
    const rows = JSON.parse(r.stdout) as Row[];
    assert.ok(Array.isArray(rows), r.stdout);
    return rows;
  };
  // The record and A's provider entry are stored apart: a search run in-process can come between
  // the two, so C searches until a row names a provider (then the whole row is checked).
  const byWord = await until('C to find the file by keyword, with a provider', async () => {
    const rows = await search(c, 'aurora timelapse');
    return rows.length > 0 && rows.every((r) => r.providers.length > 0) ? rows : undefined;
  });
  const aBt = `${HOST}:${a.btPort}`;
  assert.deepEqual(byWord, [{ infoHash, infoHashV2: null, name: 'Aurora Borealis Timelapse.mp4', length: bytes.length, cids: [cid], publisher: aDid, providers: [aBt] }]);
  assert.deepEqual(Object.keys(byWord[0]!), ['infoHash', 'infoHashV2', 'name', 'length', 'cids', 'publisher', 'providers']);
  const byCid = await search(c, cid);
  assert.deepEqual(byCid.map((r) => [r.infoHash, r.publisher, r.providers]), [[infoHash, aDid, [aBt]]]);
  const byHash = await search(c, infoHash);
  assert.deepEqual(byHash.map((r) => [r.cids, r.publisher]), [[[cid], aDid]]);
  // The same through the API.
  const api = (await (await c.api(`/api/search?q=${encodeURIComponent('borealis')}`)).json()) as Row[];
  assert.equal(api[0]?.infoHash, infoHash);
  assert.equal((await c.here(['search', 'nothing-like-this', '--json'])).code, 1);

  // A DHT node of the test's own, joined through B like C, to put forged records.
  const session = await Session.create({ port: 0, host: HOST, dht: { bootstrap: [bDht] }, webrtc: false });
  t.after(() => session.close());
  const dht = session.dhtQueries as DhtTransport;
  const mallory = generateIdentity('mallory');
  const key = recordKey('keyword_idx', 'aurora');
  const contacts = await until('the test node to meet A, B and C', async () => {
    const met = await dht.walk(targetOf(key), GET_METHOD, { k: key });
    return met.length >= 3 ? met : undefined;
  });
  // Bad signature: every node refuses it.
  const forged = signRecord(mallory, key, { name: 'aurora malware.exe', length: 1, infoHash: '66'.repeat(20), infoHashV2: null, cids: [], port: 1 }, Date.now() / 1000);
  forged.sig[10]! ^= 0x40;
  const refused = await dht.send(contacts, PUT_METHOD, { r: forged.bytes, s: forged.sig, target: targetOf(key) });
  assert.equal(refused.accepted, 0, refused.errors.join('; '));
  assert.ok(refused.errors.every((e) => /bad signature/.test(e)), refused.errors.join('; '));
  assert.deepEqual((await search(c, 'aurora')).map((r) => r.publisher), [aDid]);

  // Properly signed by mallory, but a lie: A's torrent said to hold another file (content id of her
  // payload), filed under every key the lie gives (its infohash, that content id, its name's words).
  const evilCid = cidFromSha256(createHash('sha256').update('malware').digest());
  const lie = { name: 'Aurora Borealis Timelapse.mp4', length: bytes.length, infoHash, infoHashV2: null, cids: [evilCid], port: 1 };
  const liar = new DhtRecords({ dht, identity: mallory });
  t.after(() => liar.close());
  const put = await liar.publish(lie);
  assert.ok(put.errors.some((e) => e.includes(`torrent ${infoHash} has no file with content id ${evilCid}`)), `A refuses to keep it: ${put.errors.join('; ')}`);
  assert.ok(put.accepted >= put.keys, 'nodes that do not hold the torrent cannot tell');
  // A, as a reader, drops it and ignores mallory from then on; C, holding nothing, still sees it —
  // what a node that holds nothing cannot prevent (docs/dht-records.md).
  assert.deepEqual(await search(a, evilCid), []);
  assert.deepEqual((await search(c, evilCid)).map((r) => r.publisher), [mallory.did]);
  await liar.publish({ name: 'Aurora at night.mkv', length: 5, infoHash: '77'.repeat(20), infoHashV2: null, cids: [cidFromSha256(createHash('sha256').update('x').digest())], port: 1 });
  assert.deepEqual((await search(a, 'aurora')).map((r) => r.publisher), [aDid], 'A ignores everything mallory publishes');
  assert.deepEqual((await search(c, 'aurora')).map((r) => r.publisher).sort(), [aDid, mallory.did, mallory.did].sort());

  // C downloads the torrent from A (the provider its search named). Holding it, C reads what
  // publishers said about it, finds mallory's lie and ignores her from then on.
  await okHere(c, ['add', `magnet:?xt=urn:btih:${infoHash}&x.pe=${aBt}`, '--save-path', join(dir, 'c-downloads')]);
  const cDid = (await okHere(c, ['identity', '--json'])).json.did as string;
  await until('C to hold the file and to have caught the lie', async () => {
    const rows = await search(c, 'aurora');
    return rows.some((r) => r.publisher === cDid) && !rows.some((r) => r.publisher === mallory.did) ? rows : undefined;
  }, 60_000);
  const mine = await search(c, 'aurora');
  assert.deepEqual(mine.map((r) => r.publisher), [cDid, aDid], 'its own library first (with the content id it computed), then A');
  assert.deepEqual(mine[0]!.cids, [cid]);
  assert.deepEqual(await search(c, evilCid), []);
  const own = (await search(c, cid)).map((r) => r.publisher);
  assert.ok(own.includes(aDid), `C still finds A's record: ${own.join(', ')}`);
});
