// Issue 44, item 2: content ids from any seeder. A `cascade seed` process publishes the same signed
// DHT records `serve` publishes, so a third node's `cascade download <content id>` finds and fetches
// what it serves, and `cascade search` with --dht-bootstrap and no node running joins the DHT itself
// and finds it. Real processes, each on its own loopback address; the DHT is B (a `cascade serve`)
// and whoever joins through it, never the public routers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cidFromSha256 } from '@cascade/content';
import type { SearchRow } from '@cascade/shapes';
import { tempDir } from './helpers.ts';
import { cascade, ok, startCascade, startServe, type ServeNode } from './node-process.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const [B, SEEDER, DOWNLOADER, SEARCHER] = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];

test('cascade seed publishes content ids: a third node downloads by content id, and search with --dht-bootstrap and no node running finds it', { timeout: 240_000 }, async (t) => {
  // B bootstraps from a socket of ours that never answers: a DHT of loopback nodes only.
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  t.after(() => silent.close());
  const b = await startServe(t, { dhtBootstrap: [`127.0.0.1:${silent.address().port}`], args: ['--host', B] });
  const dhtPortOf = async (n: ServeNode) => ((await (await n.api('/api/health')).json()) as { ports: { dht: number } }).ports.dht;
  const bDht = `${B}:${await dhtPortOf(b)}`;

  const dir = tempDir(t);
  mkdirSync(join(dir, 'data'));
  const bytes = Buffer.alloc(600_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(dir, 'data', 'Glacier Calving Footage.mkv'), bytes);
  const cid = cidFromSha256(createHash('sha256').update(bytes).digest());
  const made = await cascade(['create', join(dir, 'data', 'Glacier Calving Footage.mkv'), '--hybrid', '-o', join(dir, 'glacier.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  const { infoHash, infoHashV2 } = made.json as { infoHash: string; infoHashV2: string };

  const seedState = join(dir, 'seed-state');
  const seeder = startCascade(t, ['seed', join(dir, 'glacier.torrent'), '--dir', join(dir, 'data'), '--host', SEEDER, '--port', '0', '--dht-bootstrap', bDht, '--no-chain', '--state-dir', seedState]);
  const port = (await seeder.event('listening')).port as number;
  await seeder.event('seeding');
  const seederDid = (await cascade(['identity', '--json', '--state-dir', seedState])).json.did as string;

  // A third node that knows nothing but B: the content id resolves to the seeder, the file comes from it.
  const out = join(dir, 'out');
  const dl = await cascade(['download', cid, '-o', out, '--json', '--host', DOWNLOADER, '--port', '0', '--dht-bootstrap', bDht, '--no-chain', '--state-dir', join(dir, 'dl-state'), '--timeout', '45']);
  assert.equal(dl.code, 0, dl.stdout + dl.stderr);
  const found = dl.lines.find((l) => l.event === 'found')!;
  assert.deepEqual([found.infoHash, found.infoHashV2, found.publisher, found.providers], [infoHash, infoHashV2, seederDid, [`${SEEDER}:${port}`]]);
  assertSameBytes(readFileSync(join(out, 'Glacier Calving Footage.mkv')), bytes);
  assert.deepEqual(dl.lines.find((l) => l.event === 'verified'), { event: 'verified', cid, path: join(out, 'Glacier Calving Footage.mkv') });
  // The seeder said when it published (once, after its data checked out; never per piece).
  const published = seeder.events.filter((e) => e.event === 'published');
  assert.equal(published.length, 1, JSON.stringify(published));
  assert.deepEqual([published[0]!.infoHash, published[0]!.cids], [infoHash, [cid]]);

  // search with no node running on its state dir: it joins the DHT through B for the look-up.
  const row: SearchRow = { infoHash, infoHashV2, name: 'Glacier Calving Footage.mkv', length: bytes.length, cids: [cid], publisher: seederDid, providers: [`${SEEDER}:${port}`] };
  const searchState = join(dir, 'search-state');
  for (const q of ['glacier calving', cid, infoHash, infoHashV2]) {
    const r = await cascade(['search', q, '--json', '--host', SEARCHER, '--dht-bootstrap', bDht, '--state-dir', searchState]);
    assert.equal(r.code, 0, `${q}: ${r.stdout}${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), [row], q);
  }
  const human = await cascade(['search', 'glacier', '--host', SEARCHER, '--dht-bootstrap', bDht, '--state-dir', searchState]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`Glacier Calving Footage\\.mkv .*\\n  infohash ${infoHash}  v2 ${infoHashV2}\\n  cid ${cid}\\n  publisher ${seederDid}\\n  providers ${SEEDER}:${port}`));
  const none = await cascade(['search', 'nothing-like-this', '--json', '--host', SEARCHER, '--dht-bootstrap', bDht, '--state-dir', searchState]);
  assert.equal(none.code, 1, none.stderr);
  assert.deepEqual(JSON.parse(none.stdout), []);
  // --no-dht: the library only, as before.
  const local = await cascade(['search', 'glacier', '--json', '--no-dht', '--state-dir', searchState]);
  assert.deepEqual([local.code, JSON.parse(local.stdout)], [1, []]);
  // With a node running, search goes through it (B's own DHT): the same row.
  const viaB = await ok(b, ['search', 'glacier calving', '--json']);
  assert.deepEqual(JSON.parse(viaB.stdout), [row]);

  assert.equal(await seeder.stop(), 0, seeder.stderr());
});
