// `cascade download <content id>` from a node that knows nothing but a DHT bootstrap: the id is
// resolved through the DHT's records (B stores what A publishes), the torrent comes from A, and the
// finished file is checked against the id.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cidFromSha256 } from '@cascade/content';
import { tempDir } from './helpers.ts';
import { cascade, ok, startServe, until, type ServeNode, NO_CHAIN } from './node-process.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const HOST = '127.0.0.1';

/** B, a node whose only DHT contact answers nothing, and A, which joins through B: a DHT of two. */
async function dhtPair(t: TestContext): Promise<{ a: ServeNode; bDht: string }> {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, HOST, r));
  t.after(() => silent.close());
  const serve = (bootstrap: string) => startServe(t, { dhtBootstrap: [bootstrap], args: ['--host', HOST, ...NO_CHAIN] });
  const dhtPortOf = async (n: ServeNode) => ((await (await n.api('/api/health')).json()) as { ports: { dht: number } }).ports.dht;
  const b = await serve(`${HOST}:${silent.address().port}`);
  const bDht = `${HOST}:${await dhtPortOf(b)}`;
  return { a: await serve(bDht), bDht };
}

test('download by content id: resolved on the DHT, fetched from its provider, verified against the id', { timeout: 180_000 }, async (t) => {
  const { a, bDht } = await dhtPair(t);

  const dir = tempDir(t);
  mkdirSync(join(dir, 'data'));
  const bytes = Buffer.alloc(700_000);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 40503) & 0xff;
  writeFileSync(join(dir, 'data', 'field recording.wav'), bytes);
  const cid = cidFromSha256(createHash('sha256').update(bytes).digest());
  await ok(a, ['create', join(dir, 'data', 'field recording.wav'), '-o', join(dir, 'rec.torrent')]);
  const infoHash = (await ok(a, ['add', join(dir, 'rec.torrent'), '--save-path', join(dir, 'data'), '--json'])).json.infoHash as string;
  // Published once A holds it complete (its detail shows the id then).
  await until('A to hold the file complete', async () => {
    const d = (await (await a.api(`/api/torrents/${infoHash}`)).json()) as { files: { cid: string | null }[] | null };
    return d.files?.[0]?.cid === cid ? true : undefined;
  });

  const out = join(dir, 'out');
  const r = await cascade(['download', cid, '-o', out, '--json', '--host', HOST, '--port', '0', '--dht-bootstrap', bDht, '--state-dir', join(dir, 'c-state'), '--timeout', '40']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const found = r.lines.find((l) => l.event === 'found')!;
  assert.equal(found.infoHash, infoHash);
  assertSameBytes(readFileSync(join(out, 'field recording.wav')), bytes);
  const verified = r.lines.find((l) => l.event === 'verified')!;
  assert.deepEqual(verified, { event: 'verified', cid, path: join(out, 'field recording.wav') });
  const done = r.lines.find((l) => l.event === 'done')!;
  assert.equal(done.sources[0].kind, 'peer');
  assert.equal(done.sources[0].downloaded, bytes.length);
});

test('download by v2 infohash: a hybrid torrent found on the DHT under its truncated v2 hash, its metadata checked against the SHA-256', { timeout: 180_000 }, async (t) => {
  const { a, bDht } = await dhtPair(t);

  const dir = tempDir(t);
  mkdirSync(join(dir, 'data', 'pack'), { recursive: true });
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  writeFileSync(join(dir, 'data', 'pack', 'a.bin'), big);
  writeFileSync(join(dir, 'data', 'pack', 'b.txt'), 'a short file\n');
  const made = (await ok(a, ['create', join(dir, 'data', 'pack'), '--hybrid', '-o', join(dir, 'pack.torrent'), '--json'])).json as { infoHash: string; infoHashV2: string };
  assert.match(made.infoHashV2, /^[0-9a-f]{64}$/);
  await ok(a, ['add', join(dir, 'pack.torrent'), '--save-path', join(dir, 'data')]);
  await until('A to seed it', async () => {
    const d = (await (await a.api(`/api/torrents/${made.infoHash}`)).json()) as { state?: string };
    return d.state === 'seeding' ? true : undefined;
  });

  const out = join(dir, 'out');
  const r = await cascade(['download', made.infoHashV2, '-o', out, '--json', '--host', HOST, '--port', '0', '--dht-bootstrap', bDht, '--state-dir', join(dir, 'c-state'), '--timeout', '60']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assertSameBytes(readFileSync(join(out, 'pack', 'a.bin')), big);
  assert.equal(readFileSync(join(out, 'pack', 'b.txt'), 'utf8'), 'a short file\n');
});
