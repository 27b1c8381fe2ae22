// Issue 61, item 3: content ids IPFS resolves. A `cascade serve` node holding a torrent of files of
// 0 B, 1 B, 1 MiB, 1 MiB + 1 and 3 MiB + 3 shows each file's UnixFS CID in the detail; @helia/unixfs
// computes the same CID for the same bytes; Helia's HTTP node, with the node as its only trustless
// gateway, fetches every file by that CID and checks every block; the node's CAR is a verifiable
// CARv1 of the DAG in depth-first order; the torrent's folder is the UnixFS directory @helia/unixfs
// makes of it, walked by Helia through the node; search finds the torrent by either id; and `cascade
// download <cid> --ipfs-gateway` takes the file from gateways, refusing one that sends a wrong block
// and one whose CAR lacks a block. Nothing leaves 127.0.0.0/8 (the gateway's only address is the node's).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHeliaHTTP, type Helia } from '@helia/http';
import { trustlessGateway } from '@helia/block-brokers';
import { httpGatewayRouting } from '@helia/routers';
import { unixfs } from '@helia/unixfs';
import { CID } from 'multiformats/cid';
import { varint } from 'multiformats';
import { cidFromSha256 } from '@cascade/content';
import { tempDir } from './helpers.ts';
import { cascade, startServe, until } from './node-process.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

const MiB = 1024 * 1024;

async function ipfsClient(t: { after: (fn: () => unknown) => void }, gateway: string): Promise<Helia> {
  const helia = await createHeliaHTTP({
    routers: [httpGatewayRouting({ gateways: [gateway], shuffle: false })],
    blockBrokers: [trustlessGateway({ allowInsecure: true, allowLocal: true })],
    libp2p: { services: {} },
    dns: { query: async (domain: string) => { throw new Error(`no DNS in this test (${domain})`); } } as never,
  });
  t.after(() => helia.stop());
  return helia;
}

/** A gateway in front of `target` that spoils its answers: 'forge' flips the last byte of each body
 *  (a block that no longer hashes to its CID), 'drop' cuts the CAR's last block. */
async function badGateway(t: { after: (fn: () => unknown) => void }, target: string, how: 'forge' | 'drop') {
  const server = createServer(async (req, res) => {
    const up = await fetch(`${target}${req.url}`, { headers: { accept: String(req.headers.accept ?? '') } });
    let body = Buffer.from(await up.arrayBuffer());
    if (up.status === 200 && how === 'forge') body[body.length - 1]! ^= 0xff;
    if (up.status === 200 && how === 'drop') body = body.subarray(0, lastFrameStart(body));
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/plain' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A CARv1's frames: the header's bytes (DAG-CBOR), then each block's CID and bytes. */
function carFrames(car: Uint8Array): { header: Uint8Array; blocks: { cid: CID; bytes: Uint8Array }[] } {
  const frames: Uint8Array[] = [];
  for (let at = 0; at < car.length; ) {
    const [len, n] = varint.decode(car, at);
    frames.push(car.subarray(at + n, at + n + len));
    at += n + len;
  }
  const [header, ...rest] = frames;
  return { header: header!, blocks: rest.map((f) => { const [cid, bytes] = CID.decodeFirst(f); return { cid, bytes }; }) };
}

/** Where a CAR's last frame (varint length, then that many bytes) starts. */
function lastFrameStart(car: Buffer): number {
  let at = 0;
  let last = 0;
  while (at < car.length) {
    last = at;
    const [len, n] = varint.decode(car, at);
    at += n + len;
  }
  return last;
}

test('UnixFS CIDs: shown beside the SHA-256 id, equal to @helia/unixfs’s, fetched and verified by Helia from the node, CARs, search, and download --ipfs-gateway past a forged and a cut CAR', { timeout: 240_000 }, async (t) => {
  const node = await startServe(t);
  const dir = tempDir(t);
  mkdirSync(join(dir, 'data', 'album'), { recursive: true });
  const sizes: Record<string, number> = { 'empty.bin': 0, 'one.bin': 1, 'mib.bin': MiB, 'mib1.bin': MiB + 1, 'several.bin': 3 * MiB + 3 };
  const bytes = new Map(Object.entries(sizes).map(([name, size]) => [name, randomBytes(size)]));
  for (const [name, b] of bytes) writeFileSync(join(dir, 'data', 'album', name), b);
  const made = await cascade(['create', join(dir, 'data', 'album'), '-o', join(dir, 'album.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  const ih = made.json.infoHash as string;
  assert.equal((await node.run(['add', join(dir, 'album.torrent'), '--save-path', join(dir, 'data')])).code, 0);
  type F = { path: string; cid: string | null; unixfsCid: string | null };
  const files = await until('every file’s UnixFS CID', async () => {
    const d = (await (await node.api(`/api/torrents/${ih}`)).json()) as { files: F[] };
    return d.files?.length === 5 && d.files.every((f) => f.unixfsCid) ? d.files : undefined;
  }, 60_000);

  // The CID @helia/unixfs computes for the same bytes, at its defaults, beside the one Cascade shows.
  const maker = unixfs(await ipfsClient(t, node.url));
  const byName = new Map<string, F>();
  for (const f of files) {
    const name = f.path.split('/').pop()!;
    byName.set(name, f);
    const b = bytes.get(name)!;
    const helia = (await maker.addBytes(b)).toString();
    t.diagnostic(`${name.padEnd(12)} ${String(b.length).padStart(8)} B  helia ${helia}  cascade ${f.unixfsCid}  sha256 id ${f.cid}`);
    assert.equal(f.unixfsCid, helia, name);
    assert.equal(f.cid, cidFromSha256(createHash('sha256').update(b).digest()), name);
    if (b.length <= MiB) assert.equal(f.unixfsCid, f.cid, `${name}: one chunk, one raw leaf`);
  }

  // A fresh Helia whose only gateway is the node: every file by its CID, every block hashed.
  const client = unixfs(await ipfsClient(t, node.url));
  for (const [name, b] of bytes) {
    const chunks: Uint8Array[] = [];
    for await (const c of client.cat(CID.parse(byName.get(name)!.unixfsCid!), { signal: AbortSignal.timeout(30_000) })) chunks.push(c);
    assertSameBytes(Buffer.concat(chunks), b, name);
  }

  // The CAR (by ?format=car and by Accept): CARv1, rooted at the CID, every block hashing to its
  // CID, parents before children, the leaves' bytes the file's in order.
  const several = byName.get('several.bin')!.unixfsCid!;
  for (const ask of [`/ipfs/${several}?format=car`, `/ipfs/${several}`]) {
    const res = await fetch(`${node.url}${ask}`, { headers: ask.includes('format') ? {} : { accept: 'application/vnd.ipld.car' } });
    assert.equal(res.status, 200, ask);
    assert.equal(res.headers.get('content-type'), 'application/vnd.ipld.car; version=1; order=dfs; dups=n');
    const car = carFrames(new Uint8Array(await res.arrayBuffer()));
    // {roots: [<the CID>], version: 1}: the CID's bytes after tag 42's 0x00, version 1 at the end.
    assert.ok(Buffer.from(car.header).includes(Buffer.concat([Buffer.from([0]), CID.parse(several).bytes])));
    assert.ok(Buffer.from(car.header).toString('latin1').endsWith('version\x01'));
    const seen: string[] = [];
    const leaves: Uint8Array[] = [];
    for (const { cid, bytes: block } of car.blocks) {
      assert.deepEqual(Buffer.from(createHash('sha256').update(block).digest()), Buffer.from(cid.multihash.digest), `${cid}`);
      seen.push(cid.toString());
      if (cid.code === 0x55) leaves.push(block);
    }
    assert.equal(seen[0], several);
    assert.equal(seen.length, 1 + 4, 'the root and its 4 leaves');
    assertSameBytes(Buffer.concat(leaves), bytes.get('several.bin')!);
  }
  // One block: the root (dag-pb) and a leaf (raw), each hashing to its CID.
  const root = await fetch(`${node.url}/ipfs/${several}?format=raw`);
  assert.deepEqual([root.status, root.headers.get('content-type')], [200, 'application/vnd.ipld.raw']);
  assert.deepEqual(Buffer.from(createHash('sha256').update(Buffer.from(await root.arrayBuffer())).digest()), Buffer.from(CID.parse(several).multihash.digest));
  // HEAD: the CAR's headers, no body.
  const head = await fetch(`${node.url}/ipfs/${several}?format=car`, { method: 'HEAD' });
  assert.deepEqual([head.status, head.headers.get('content-type'), (await head.arrayBuffer()).byteLength], [200, 'application/vnd.ipld.car; version=1; order=dfs; dups=n', 0]);
  // What the node does not hold, a malformed CID, a path inside a file, no format asked.
  const stranger = cidFromSha256(createHash('sha256').update('nobody has this').digest());
  assert.equal((await fetch(`${node.url}/ipfs/${stranger}?format=raw`)).status, 404);
  assert.equal((await fetch(`${node.url}/ipfs/${stranger}?format=car`)).status, 404);
  assert.equal((await fetch(`${node.url}/ipfs/not-a-cid?format=raw`)).status, 400);
  assert.equal((await fetch(`${node.url}/ipfs/${several}/inside.txt?format=raw`)).status, 404);
  assert.equal((await fetch(`${node.url}/ipfs/${several}`)).status, 406);
  // entity-bytes (the spec's trustless Range): five bytes of the second MiB are the root and that leaf,
  // verifiable; its ETag carries the range. Bad ranges are 400s that say why.
  const ranged = await fetch(`${node.url}/ipfs/${several}?format=car&entity-bytes=${MiB}:${MiB + 4}`);
  assert.equal(ranged.status, 200);
  assert.equal(ranged.headers.get('etag'), `"${several}.car.entity.${MiB}:${MiB + 4}"`);
  const rangedCar = carFrames(new Uint8Array(await ranged.arrayBuffer()));
  assert.deepEqual(rangedCar.blocks.map((b) => b.cid.code), [0x70, 0x55]);
  assert.deepEqual(Buffer.from(rangedCar.blocks[1]!.bytes), bytes.get('several.bin')!.subarray(MiB, 2 * MiB));
  for (const [ask, why] of [
    [`entity-bytes=10:5`, /entity-bytes=10:5: write from:to/],
    [`entity-bytes=first:last`, /write from:to/],
    [`entity-bytes=${16 * MiB}:*`, /lies wholly outside the file's/],
    [`entity-bytes=0:*&dag-scope=block`, /entity-bytes implies dag-scope=entity, not block/],
  ] as const) {
    const r = await fetch(`${node.url}/ipfs/${several}?format=car&${ask}`);
    assert.equal(r.status, 400, ask);
    assert.match(((await r.json()) as { message: string }).message, why);
  }
  assert.equal((await fetch(`${node.url}/ipfs/${several}?format=raw&entity-bytes=0:*`)).status, 400);

  // The torrent's folder as a UnixFS directory: @helia/unixfs's CID for the same folder, and Helia
  // walks /<folder>/<file> through the node; the CAR of a path carries the folder first.
  const imported = new Map<string, string>();
  for await (const e of maker.addAll([...bytes].map(([name, b]) => ({ path: `album/${name}`, content: b })))) imported.set(e.path ?? '', e.cid.toString());
  const folder = await until('the folder’s UnixFS CID', async () => ((await (await node.api(`/api/torrents/${ih}`)).json()) as { unixfsCid?: string | null }).unixfsCid ?? undefined);
  t.diagnostic(`album/ (folder)            helia ${imported.get('album')}  cascade ${folder}`);
  assert.equal(folder, imported.get('album'));
  const viaFolder: Uint8Array[] = [];
  for await (const c of client.cat(CID.parse(folder), { path: 'mib1.bin', signal: AbortSignal.timeout(30_000) })) viaFolder.push(c);
  assertSameBytes(Buffer.concat(viaFolder), bytes.get('mib1.bin')!);
  const listed: string[] = [];
  for await (const e of client.ls(CID.parse(folder), { signal: AbortSignal.timeout(30_000) })) listed.push(`${e.name} ${e.cid}`);
  assert.deepEqual(listed, [...files].map((f) => `${f.path.split('/').pop()} ${f.unixfsCid}`).sort());
  const pathCar = carFrames(new Uint8Array(await (await fetch(`${node.url}/ipfs/${folder}/several.bin?format=car`)).arrayBuffer()));
  assert.deepEqual(pathCar.blocks.slice(0, 2).map((b) => b.cid.toString()), [folder, several]);
  assert.equal(pathCar.blocks.length, 2 + 4);
  const wholeCar = carFrames(new Uint8Array(await (await fetch(`${node.url}/ipfs/${folder}?format=car`)).arrayBuffer()));
  assert.equal(wholeCar.blocks.length, 1 + 1 + 1 + 1 + 3 + 5, 'the folder, three one-chunk files, 1 MiB + 1 in 3 blocks, 3 MiB + 3 in 5');
  for (const b of wholeCar.blocks) assert.deepEqual(Buffer.from(createHash('sha256').update(b.bytes).digest()), Buffer.from(b.cid.multihash.digest));
  assert.equal((await fetch(`${node.url}/ipfs/${folder}/no-such.bin?format=raw`)).status, 404);

  // Search (the API `cascade search` asks) finds the torrent by either id of a file, and by its folder's.
  for (const q of [several, byName.get('several.bin')!.cid!, folder]) {
    const r = await node.api(`/api/search?q=${q}`);
    assert.equal(r.status, 200, q);
    assert.deepEqual(((await r.json()) as { infoHash: string }[]).map((x) => x.infoHash), [ih], q);
  }
  const searched = await node.run(['search', several, '--json']);
  assert.deepEqual([searched.code, (JSON.parse(searched.stdout) as { infoHash: string }[]).map((x) => x.infoHash)], [0, [ih]], searched.stderr);

  // download --ipfs-gateway: a forging gateway first (refused), then one whose CAR lacks its last
  // block (refused), then the node: the file, whole and checked; with only bad gateways, no file.
  const forger = await badGateway(t, node.url, 'forge');
  const cutter = await badGateway(t, node.url, 'drop');
  const out = join(dir, 'out');
  const base = ['--json', '--no-dht', '--no-chain', '--port', '0', '--host', '127.0.0.1', '--state-dir', join(dir, 'dl-state')];
  const dl = await cascade(['download', several, '-o', out, '--ipfs-gateway', forger, '--ipfs-gateway', cutter, '--ipfs-gateway', node.url, ...base]);
  assert.equal(dl.code, 0, dl.stdout + dl.stderr);
  assertSameBytes(readFileSync(join(out, several)), bytes.get('several.bin')!);
  const refused = dl.lines.filter((l) => l.event === 'gateway-refused');
  assert.deepEqual(refused.map((l) => l.gateway), [forger, cutter]);
  assert.match(String(refused[0]!.error), /does not hash to its CID: refused/);
  assert.match(String(refused[1]!.error), /ended with block .* missing/);
  assert.deepEqual(dl.lines.find((l) => l.event === 'verified'), { event: 'verified', cid: several, path: join(out, several) });
  // A SHA-256 content id (a file of one chunk) beside the swarm: no DHT here, the gateway gives it.
  const small = byName.get('mib.bin')!.cid!;
  const viaId = await cascade(['download', small, '-o', out, '--ipfs-gateway', node.url, ...base]);
  assert.equal(viaId.code, 0, viaId.stdout + viaId.stderr);
  assertSameBytes(readFileSync(join(out, small)), bytes.get('mib.bin')!);
  // Only bad gateways: an error naming each, and nothing under the CID's name (nor a part file).
  const bad = await cascade(['download', several, '-o', join(dir, 'bad'), '--ipfs-gateway', forger, '--ipfs-gateway', cutter, ...base]);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout + bad.stderr, /IPFS gateway http:\/\/\S+ refused: its block \S+ does not hash to its CID.*IPFS gateway http:\/\/\S+ refused: its CAR ended with block \S+ \(and \d+ more\) missing/);
  assert.equal(existsSync(join(dir, 'bad', several)), false);
  assert.deepEqual(readdirSync(join(dir, 'bad')), []);
  // A UnixFS CID without a gateway is a usage error (the DHT knows files by their SHA-256 id).
  assert.equal((await cascade(['download', several, '-o', out, ...base])).code, 2);
});
