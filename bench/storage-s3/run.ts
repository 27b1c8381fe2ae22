// `npm run bench:storage-s3 [-- --mib N]`: a torrent downloaded from libtorrent into an S3 bucket
// (s3rver on 127.0.0.1) and seeded from it to libtorrent, beside the same two transfers on the disk.
// One Cascade session each way, 1 MiB pieces, loopback only. Prints MB/s (10^6 bytes) of each leg,
// the upload's share of the S3 download (time from the last piece to the last object), and the
// ranged GETs the seeding side made. A benchmark, not a test: s3rver is a small Koa server writing
// to files, so its figures are a floor for what a real store gives.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomFillSync } from 'node:crypto';
import { Session, createTorrent, type TorrentHandle } from '@cascade/engine';
import { S3Backend } from '@cascade/storage-s3';
// @ts-expect-error s3rver has no types
import S3rver from 's3rver';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' } } });
const MIB = Number(values.mib);
const LT_SEED = fileURLToPath(new URL('../../packages/engine/test/lt_seed.py', import.meta.url));
const LT_FETCH = fileURLToPath(new URL('../../packages/engine/test/lt_fetch.py', import.meta.url));
const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);

function whenDone(h: TorrentHandle): Promise<void> {
  return new Promise((resolve, reject) => {
    if (h.stats().state === 'seeding') return resolve();
    h.once('done', () => resolve());
    h.once('error', (e: Error) => reject(e));
  });
}

/** A python child that prints `line` when ready; resolves with every line seen until then. */
async function child(args: string[], want: (l: string) => boolean): Promise<{ lines: string[]; stop: () => void }> {
  const p = spawn('/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  for await (const l of readline.createInterface({ input: p.stdout })) {
    lines.push(l);
    if (want(l)) return { lines, stop: () => (p.stdin.end(), p.kill()) };
  }
  throw new Error(`${args[0]} exited: ${lines.join(' | ')}`);
}

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-s3-'));
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(root, 's3rver'), configureBuckets: [{ name: 'bench' }] });
const { port } = (await s3.run()) as { port: number };
const endpoint = `http://127.0.0.1:${port}`;
try {
  const bytes = MIB * 1024 * 1024;
  await fs.mkdir(path.join(root, 'seed'));
  const fh = await fs.open(path.join(root, 'seed', 'payload.bin'), 'w');
  const block = Buffer.alloc(8 * 1024 * 1024);
  for (let at = 0; at < bytes; at += block.length) await fh.write(randomFillSync(block), 0, Math.min(block.length, bytes - at));
  await fh.close();
  const { torrent } = await createTorrent(path.join(root, 'seed', 'payload.bin'), { pieceLength: 1024 * 1024 });
  const torrentFile = path.join(root, 'payload.torrent');
  await fs.writeFile(torrentFile, torrent);
  const lt = await child([LT_SEED, torrentFile, path.join(root, 'seed')], (l) => l === 'seeding');
  const ltPort = Number(lt.lines.find((l) => l.startsWith('port '))!.slice(5));
  console.log(`bench:storage-s3 ${MIB} MiB, 1 MiB pieces, load ${os.loadavg()[0]!.toFixed(1)}`);

  const backend = await S3Backend.open({ stateDir: path.join(root, 'state'), endpoint, defaultUrl: 's3://bench/lib' });
  const rows: string[] = [];
  for (const kind of ['disk', 's3'] as const) {
    const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, storageFor: (meta, savePath, standard) => (kind === 's3' ? backend.storageFor(meta, savePath)! : standard()) });
    const meta = (await import('@cascade/engine')).parseTorrent(torrent);
    if (kind === 's3') await backend.assign(meta.infoHashHex, undefined);
    const save = path.join(root, `down-${kind}`);
    const start = Date.now();
    const h = await session.add(torrent, { savePath: save, peers: [`127.0.0.1:${ltPort}`] });
    await whenDone(h);
    const down = Date.now() - start;
    // The last piece's write waits for its file's upload: the rest of the time is staging.
    const uploadMs = backend.opened.get(meta.infoHashHex)?.uploadMs ?? 0;
    const upload = kind === 's3' ? ` (staging ${mbps(bytes, down - uploadMs)} MB/s, then the multipart upload ${(uploadMs / 1000).toFixed(1)} s = ${mbps(bytes, uploadMs)} MB/s)` : '';
    rows.push(`  lt -> cascade (${kind})   ${mbps(bytes, down).padStart(7)} MB/s${upload}`);
    // Seeding: libtorrent fetches from this session (from the bucket through the read cache for s3).
    const getsBefore = backend.cache.gets;
    const t0 = Date.now();
    const fetch = await child([LT_FETCH, torrentFile, path.join(root, `lt-${kind}`), `127.0.0.1:${session.port}`], (l) => l === 'done');
    const up = Date.now() - t0;
    fetch.stop();
    const gets = kind === 's3' ? ` (${backend.cache.gets - getsBefore} ranged GETs of ${backend.cache.chunkSize / 1048576} MiB, cache ${backend.cache.maxBytes / 1048576} MiB)` : '';
    rows.push(`  cascade (${kind}) -> lt   ${mbps(bytes, up).padStart(7)} MB/s${gets}`);
    await session.close();
  }
  console.log(rows.join('\n'));
  lt.stop();
  backend.close();
} finally {
  await s3.close();
  await fs.rm(root, { recursive: true, force: true });
}
