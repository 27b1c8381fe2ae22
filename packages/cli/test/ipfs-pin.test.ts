// `serve --ipfs-api URL` pins the metadata block of each torrent it registers to a Kubo node over
// Kubo's RPC API. Kubo cannot be installed here (its npm package downloads the binary at install),
// so a stand-in speaks the one call used — POST /api/v0/block/put?cid-codec=…&mhtype=…&pin=true
// with the block as a multipart file, answering {"Key": <CID it computed>, "Size"} — and computes
// the CID from the bytes itself, as Kubo does. An IPFS node that is down never stops a registration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dagJsonCid, readMetadataBlock } from '@cascade/chain';
import { tempDir } from './helpers.ts';
import { cascade, startServe, until } from './node-process.ts';

async function standInKubo(t: { after: (fn: () => unknown) => void }) {
  const blocks = new Map<string, { bytes: Uint8Array; pinned: boolean }>();
  const calls: string[] = [];
  const server = createServer(async (req, res) => {
    calls.push(`${req.method} ${req.url}`);
    const url = new URL(req.url!, 'http://x');
    if (req.method !== 'POST' || url.pathname !== '/api/v0/block/put') return void res.writeHead(404).end('404 page not found');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': req.headers['content-type']! }, body: Buffer.concat(chunks) }).formData();
    const file = form.get('file');
    if (!(file instanceof Blob) || url.searchParams.get('cid-codec') !== 'dag-json' || url.searchParams.get('mhtype') !== 'sha2-256') {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: 'bad request', Code: 0, Type: 'error' }));
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const cid = (await dagJsonCid(bytes)).toString();
    blocks.set(cid, { bytes, pinned: url.searchParams.get('pin') === 'true' });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Key: cid, Size: bytes.length }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, blocks, calls };
}

test('serve --ipfs-api pins a registered torrent’s metadata block; a Kubo that is down does not stop the registration', { timeout: 120_000 }, async (t) => {
  const kubo = await standInKubo(t);
  const node = await startServe(t, { args: ['--ipfs-api', kubo.url] });
  await until('the chain running', async () => ((await node.run(['health', '--json'])).json.chain?.state === 'running' ? true : undefined), 60_000);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'talk.mp3'), 'x'.repeat(50_000));
  const made = await cascade(['create', join(dir, 'talk.mp3'), '-o', join(dir, 'talk.torrent'), '--json']);
  const reg = await node.run(['register', join(dir, 'talk.torrent'), '--json']);
  assert.equal(reg.code, 0, reg.stderr);
  assert.equal(reg.json.pinned, true, JSON.stringify(reg.json));
  const held = kubo.blocks.get(reg.json.metadataCid);
  assert.ok(held, `Kubo holds ${reg.json.metadataCid}: ${kubo.calls.join(', ')}`);
  assert.equal(held.pinned, true);
  const meta = await readMetadataBlock(reg.json.metadataCid, held.bytes);
  assert.equal(meta.infoHash, made.json.infoHash);

  // Kubo gone: the registration still happens; the result says it is not pinned, and why.
  const down = await startServe(t, { args: ['--ipfs-api', 'http://127.0.0.1:9'] });
  await until('the chain running', async () => ((await down.run(['health', '--json'])).json.chain?.state === 'running' ? true : undefined), 60_000);
  writeFileSync(join(dir, 'other.mp3'), 'y'.repeat(50_000));
  await cascade(['create', join(dir, 'other.mp3'), '-o', join(dir, 'other.torrent')]);
  const r2 = await down.run(['register', join(dir, 'other.torrent'), '--json']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.json.tx, /^0x/);
  assert.equal(r2.json.pinned, false);
  assert.match(r2.json.pinError, /127\.0\.0\.1:9/);

  const bad = await cascade(['serve', '--ipfs-api', 'ftp://x', '--state-dir', join(dir, 's')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--ipfs-api wants an http\(s\) URL/);
});
