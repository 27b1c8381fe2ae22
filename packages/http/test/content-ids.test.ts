// Content ids on the node (issue 15): every complete file gets one, kept in the state DB; only
// public torrents are published (a private one is hashed and shown, never published); a download
// by content id whose bytes disprove the claim gets its publisher ignored; content ids survive a
// restart. The DHT is one node bootstrapped from a socket of ours that never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { cidFromSha256 } from '@cascade/content';
import { startServer } from '../src/app/server.ts';
import { FileCids, type NodeContent } from '@cascade/content-node';
import { StateDB } from '@cascade/node';
import { formWith, patternBytes, startTestServer, testServerOptions } from './server-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const HOST = '127.0.0.1';

async function waitFor<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('content ids: public torrents published, private ones only hashed; a disproved claim blames its publisher; kept across restarts', async (t) => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, HOST, r));
  t.after(() => silent.close());
  const s = await startTestServer(t, { dht: { bootstrap: [`${HOST}:${silent.address().port}`] } });
  // Loaded with the node (serve computes content ids as torrents complete).
  const content = s.node.content.loaded as NodeContent;
  assert.ok(content.records, 'a node with a DHT has a records client');

  const data = patternBytes(100_000, 3);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['public.bin', data]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const publicHash = up.body.infoHash as string;
  const publicCid = cidFromSha256(createHash('sha256').update(data).digest());
  await waitFor('the public file\'s content id', () => content.cids.of(publicHash).get(0));
  assert.equal(content.cids.of(publicHash).get(0), publicCid);
  assert.equal((await content.cids.withCid(publicCid))[0]?.infoHash, publicHash);

  // A private torrent (BEP 27) with its data in place: hashed and shown, never published.
  const dir = join(s.root, 'private-src');
  mkdirSync(dir);
  const secret = patternBytes(50_000, 9);
  writeFileSync(join(dir, 'secret.bin'), secret);
  const made = await createTorrent(join(dir, 'secret.bin'), { private: true, announce: ['http://127.0.0.1:1/announce'] });
  // Added where its data is: the node checks it and completes.
  const form = new FormData();
  form.append('savePath', dir);
  form.append('torrent', new Blob([new Uint8Array(made.torrent)]), 'secret.torrent');
  const added = await s.json('/api/torrents', { method: 'POST', body: form });
  assert.ok(added.status === 200 || added.status === 201, JSON.stringify(added.body));
  const privateHash = made.metainfo.infoHashHex;
  const privateTorrent = s.node.session.get(privateHash)!;
  const secretCid = cidFromSha256(createHash('sha256').update(secret).digest());
  const statements = () => content.statements().map((x) => x.infoHash);
  await waitFor('the private file\'s content id', () => content.cids.of(privateHash).get(0));
  assert.equal(content.cids.of(privateHash).get(0), secretCid);
  assert.equal(privateTorrent.stats().progress, 1);
  assert.equal(content.statement(privateTorrent), undefined);
  assert.deepEqual(statements(), [publicHash]);
  const search = await s.json(`/api/search?q=${publicCid}`);
  assert.equal(search.status, 200);
  assert.deepEqual(search.body.map((r: { infoHash: string }) => r.infoHash), [publicHash]);
  assert.equal((await s.json('/api/search?q=%20')).status, 400);

  // Two publishers said the public torrent holds a content id: one truly, one not.
  content.expectContent(publicHash, publicCid, 'did:key:z6MkhonestHonestHonestHonestHonestHonestHonest1');
  content.expectContent(publicHash, cidFromSha256(createHash('sha256').update('other').digest()), 'did:key:z6MkliarLiarLiarLiarLiarLiarLiarLiarLiarLiar1');
  const reputation = content.records!.reputation;
  assert.equal(reputation.ignores('did:key:z6MkliarLiarLiarLiarLiarLiarLiarLiarLiarLiar1'), true);
  assert.equal(reputation.ignores('did:key:z6MkhonestHonestHonestHonestHonestHonestHonest1'), false);

  // Kept in the state DB: the content ids and the blame outlive the node.
  const stateDir = testServerOptions(s.root).stateDir;
  await s.close();
  const db = await StateDB.open(stateDir);
  try {
    const cids = new FileCids(db);
    assert.equal(cids.of(publicHash).get(0), undefined, 'not loaded: no view');
    await cids.load(publicHash);
    assert.equal(cids.of(publicHash).get(0), publicCid);
    assert.deepEqual((await cids.blames()).map((b) => b.publisher), ['did:key:z6MkliarLiarLiarLiarLiarLiarLiarLiarLiarLiar1']);
  } finally {
    await db.close();
  }
  const again = await startServer({ ...testServerOptions(s.root), dht: { bootstrap: [`${HOST}:${silent.address().port}`] } });
  try {
    assert.equal((again.node.content.loaded as NodeContent).records!.reputation.ignores('did:key:z6MkliarLiarLiarLiarLiarLiarLiarLiarLiarLiar1'), true);
    // In memory once the torrent is loaded again (the library loads after the start).
    await again.ready;
    await waitFor('the content id read back', () => again.node.content.cids.of(publicHash).get(0));
    assert.equal(again.node.content.cids.of(publicHash).get(0), publicCid);
  } finally {
    await again.close();
  }
});

test('download by content id on the node: findContent resolves it through the DHT, contentFile finds the verified file', async (t) => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, HOST, r));
  t.after(() => silent.close());
  const a = await startTestServer(t, { dht: { bootstrap: [`${HOST}:${silent.address().port}`] } });
  const aDht = `${HOST}:${a.node.health().dhtPort}`;
  const c = await startTestServer(t, { dht: { bootstrap: [aDht] } });
  await assert.rejects(c.node.content.findContent(cidFromSha256(createHash('sha256').update('nobody has this').digest())), /no torrent with content id/);

  const data = patternBytes(120_000, 5);
  const cid = cidFromSha256(createHash('sha256').update(data).digest());
  const up = await a.json('/api/torrents', { method: 'POST', body: formWith([['wanted.bin', data]]) });
  assert.equal(up.status, 201);
  const found = await (async () => {
    const end = Date.now() + 20_000;
    for (;;) {
      try {
        // The record can be met (through a node that stored it) before the look-up has heard from
        // its publisher, which is what names it as a provider: asked again until it does.
        const f = await c.node.content.findContent(cid);
        if (f.row.providers.length > 0) return f;
        throw new Error(`found, with no provider yet: ${f.magnet}`);
      } catch (err) {
        if (Date.now() > end) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  assert.equal(found.row.infoHash, up.body.infoHash);
  assert.equal(found.row.publisher, a.identity.did);
  assert.match(found.magnet, new RegExp(`x\\.pe=${encodeURIComponent(`${HOST}:${a.node.session.port}`)}`));

  const torrent = await c.node.addWith(found.magnet, {});
  await waitFor('the download', () => (torrent.stats().progress >= 1 ? true : undefined), 30_000);
  const path = await c.node.content.contentFile(torrent, cid);
  assert.ok(path, 'the downloaded file has the content id');
  assertSameBytes(readFileSync(path), Buffer.from(data));
  assert.equal((c.node.content.loaded as NodeContent).records!.reputation.ignores(a.identity.did), false);
  assert.equal(await c.node.content.contentFile(torrent, cidFromSha256(createHash('sha256').update('x').digest())), undefined);
});

test('v2 and hybrid torrents: records name both infohashes (v2-only: none of v1), search finds them by their v2 infohash', async (t) => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, HOST, r));
  t.after(() => silent.close());
  const s = await startTestServer(t, { dht: { bootstrap: [`${HOST}:${silent.address().port}`] } });
  for (const version of ['hybrid', 'v2'] as const) {
    const data = patternBytes(70_000, version === 'v2' ? 11 : 12);
    const form = new FormData();
    form.append('version', version);
    form.append('file', new Blob([new Uint8Array(data)]), `${version} thing.bin`);
    const up = await s.json('/api/torrents', { method: 'POST', body: form });
    assert.equal(up.status, 201, JSON.stringify(up.body));
    const torrent = s.node.session.get(up.body.infoHash)!;
    const v2 = torrent.metainfo!.infoHashV2Hex!;
    assert.match(v2, /^[0-9a-f]{64}$/);
    const cid = cidFromSha256(createHash('sha256').update(data).digest());
    await waitFor(`the ${version} file's content id`, () => s.node.content.cids.of(torrent.infoHashHex).get(0));
    const statement = (s.node.content.loaded as NodeContent).statement(torrent)!;
    assert.deepEqual(
      { infoHash: statement.infoHash, infoHashV2: statement.infoHashV2, cids: statement.cids },
      { infoHash: version === 'v2' ? null : torrent.infoHashHex, infoHashV2: v2, cids: [cid] },
    );
    const rows = (await s.json(`/api/search?q=${v2}`)).body as { infoHash: string | null; infoHashV2: string; cids: string[] }[];
    assert.deepEqual(rows.map((r) => [r.infoHash, r.infoHashV2, r.cids]), [[statement.infoHash, v2, [cid]]]);
  }
});
