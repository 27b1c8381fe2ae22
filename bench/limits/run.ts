// Speed-limit benchmark (issue 20): does a download or upload limit hold, and does the rate the
// engine shows match the rate at which bytes land on disk? For each limit (default 1, 4 and
// 32 MiB/s) and direction:
//   download limit: cascade→cascade and lt→cascade (the limit on the Cascade downloader),
//   upload limit:   cascade→cascade and cascade→lt (the limit on the Cascade seeder),
//   reference:      lt→lt with the same limit in libtorrent's settings, measured the same way.
// Cascade limits are node-wide (session.setRateLimits); libtorrent's are its session's
// download_rate_limit / upload_rate_limit. The rate on disk is the growth of the downloaded file's
// allocated blocks over the steady window (after a settling time from the first byte on disk);
// "shown" is the mean over the same window of what the limited side reports (Cascade: stats()
// downloadSpeed / uploadSpeed; libtorrent: its payload rate).
// Run: npm run bench:limits -- [--rates 1,4,32] [--window 10] [--settle 3] [--directions download,upload]

import { spawn, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { Session, createTorrent } from '../../packages/engine/index.ts';

const MiB = 2 ** 20;
const LT_PEER = join(import.meta.dirname, 'lt_peer.py');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { values: argv } = parseArgs({
  options: {
    rates: { type: 'string', default: '1,4,32' },
    window: { type: 'string', default: '10' },
    settle: { type: 'string', default: '3' },
    directions: { type: 'string', default: 'download,upload' },
    'piece-length': { type: 'string', default: '256' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (argv.help) {
  console.log(`usage: npm run bench:limits -- [--rates 1,4,32 (MiB/s)] [--window 10 (s)] [--settle 3 (s)]
       [--directions download,upload] [--piece-length 256 (KiB)]`);
  process.exit(0);
}
const RATES = argv.rates.split(',').map(Number);
const WINDOW_S = Number(argv.window);
const SETTLE_S = Number(argv.settle);
const PIECE = Number(argv['piece-length']) * 1024;
const DIRECTIONS = argv.directions.split(',') as ('download' | 'upload')[];

type Impl = 'cascade' | 'lt';
interface Side {
  port: number;
  /** Bytes/s this side reports in the limited direction. */
  reported(): number;
  close(): Promise<void>;
}

async function makePayload(root: string, bytes: number) {
  const dir = join(root, `seed-${bytes}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'payload.bin');
  const fh = await open(file, 'w');
  const chunk = Buffer.allocUnsafe(8 * MiB);
  for (let off = 0; off < bytes; off += chunk.length) {
    randomFillSync(chunk);
    await fh.write(chunk, 0, Math.min(chunk.length, bytes - off));
  }
  await fh.close();
  const { torrent } = await createTorrent(file, { pieceLength: PIECE });
  const torrentFile = join(root, `payload-${bytes}.torrent`);
  await writeFile(torrentFile, torrent);
  return { dir, torrent, torrentFile };
}

async function cascadeSide(role: 'seed' | 'download', torrent: Uint8Array, savePath: string, limits: { download: number; upload: number }, peerPort?: number): Promise<Side> {
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  session.setRateLimits(limits);
  const t = await session.add(torrent, { savePath, peers: peerPort ? [`127.0.0.1:${peerPort}`] : [] });
  if (role === 'seed') await new Promise<void>((r) => (t.stats().state === 'seeding' ? r() : t.once('done', () => r())));
  return {
    port: session.port,
    reported: () => (role === 'seed' ? t.stats().uploadSpeed : t.stats().downloadSpeed),
    close: () => session.close(),
  };
}

async function ltSide(role: 'seed' | 'download', torrentFile: string, savePath: string, limits: { download: number; upload: number }, peerPort?: number): Promise<Side> {
  const args = [LT_PEER, role, torrentFile, savePath, String(limits.download), String(limits.upload)];
  if (peerPort) args.push(String(peerPort));
  const child: ChildProcess = spawn('/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! });
  let port = 0;
  let rate = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`libtorrent peer exited (${code})`)));
    lines.on('line', (line) => {
      const [kind, ...rest] = line.split(' ');
      if (kind === 'port') {
        port = Number(rest[0]);
        if (role === 'download') resolve();
      } else if (kind === 'seeding') resolve();
      else if (kind === 'stat') rate = Number(role === 'seed' ? rest[2] : rest[1]);
    });
  });
  await ready;
  return {
    port,
    reported: () => rate,
    close: async () => {
      child.stdin!.end();
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    },
  };
}

/** Bytes allocated on disk for `file` (0 while it does not exist). */
async function diskBytes(file: string): Promise<number> {
  try {
    return (await stat(file)).blocks * 512;
  } catch {
    return 0;
  }
}

interface Row {
  direction: string;
  limit: number;
  pair: string;
  disk: number;
  shown: number;
}

async function runOnce(root: string, direction: 'download' | 'upload', rateMiB: number, pair: string): Promise<Row> {
  const limit = rateMiB * MiB;
  const bytes = Math.max(8 * MiB, Math.ceil((limit * (SETTLE_S + WINDOW_S + 6)) / PIECE) * PIECE);
  const payload = await makePayload(root, bytes);
  const [seedImpl, downImpl] = pair.split('-') as [Impl, Impl];
  const none = { download: 0, upload: 0 };
  const seedLimits = direction === 'upload' ? { download: 0, upload: limit } : none;
  const downLimits = direction === 'download' ? { download: limit, upload: 0 } : none;
  const out = await mkdtemp(join(root, 'out-'));
  const seeder = seedImpl === 'cascade'
    ? await cascadeSide('seed', payload.torrent, payload.dir, seedLimits)
    : await ltSide('seed', payload.torrentFile, payload.dir, seedLimits);
  const downloader = downImpl === 'cascade'
    ? await cascadeSide('download', payload.torrent, out, downLimits, seeder.port)
    : await ltSide('download', payload.torrentFile, out, downLimits, seeder.port);
  const limited = direction === 'download' ? downloader : seeder;
  const file = join(out, 'payload.bin');
  try {
    const startWait = Date.now();
    while ((await diskBytes(file)) === 0) {
      if (Date.now() - startWait > 30_000) throw new Error(`${pair}: no data on disk after 30 s`);
      await sleep(50);
    }
    await sleep(SETTLE_S * 1000);
    const b0 = await diskBytes(file);
    const t0 = performance.now();
    const shown: number[] = [];
    while (performance.now() - t0 < WINDOW_S * 1000) {
      await sleep(250);
      shown.push(limited.reported());
    }
    const b1 = await diskBytes(file);
    const disk = ((b1 - b0) * 1000) / (performance.now() - t0);
    if (b1 >= bytes) console.warn(`  (warning: ${pair} finished inside the window; the rate is low)`);
    return { direction, limit, pair, disk, shown: shown.reduce((a, b) => a + b, 0) / shown.length };
  } finally {
    await downloader.close();
    await seeder.close();
    await rm(out, { recursive: true, force: true });
    await rm(payload.dir, { recursive: true, force: true });
  }
}

const PAIRS = { download: ['cascade-cascade', 'lt-cascade', 'lt-lt'], upload: ['cascade-cascade', 'cascade-lt', 'lt-lt'] };
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ok = (ratio: number) => (Math.abs(ratio - 1) <= 0.1 ? 'ok' : 'MISS');

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'cascade-bench-limits-'));
  console.log(`bench/limits: window ${WINDOW_S} s after ${SETTLE_S} s settling, ${PIECE / 1024} KiB pieces, load ${loadavg()[0]!.toFixed(2)}`);
  console.log('direction  limit MiB/s  pair             disk MiB/s  disk/limit  ±10%   shown MiB/s  shown/disk  ±10%');
  const rows: Row[] = [];
  let failed = false;
  try {
    for (const direction of DIRECTIONS) {
      for (const rate of RATES) {
        for (const pair of PAIRS[direction]) {
          let r: Row;
          try {
            r = await runOnce(root, direction, rate, pair);
          } catch (err) {
            console.log(`${direction.padEnd(10)} ${String(rate).padStart(11)}  ${pair.padEnd(15)}  failed: ${(err as Error).message}`);
            failed = true;
            continue;
          }
          rows.push(r);
          const ref = pair === 'lt-lt' ? '  (libtorrent reference)' : '';
          console.log(
            `${direction.padEnd(10)} ${String(rate).padStart(11)}  ${pair.padEnd(15)} ${(r.disk / MiB).toFixed(3).padStart(11)}  ${pct(r.disk / r.limit).padStart(10)}  ${ok(r.disk / r.limit).padEnd(5)}` +
              ` ${(r.shown / MiB).toFixed(3).padStart(12)}  ${pct(r.shown / r.disk).padStart(10)}  ${ok(r.shown / r.disk)}${ref}`,
          );
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const mine = rows.filter((r) => r.pair !== 'lt-lt');
  const held = mine.filter((r) => ok(r.disk / r.limit) === 'ok').length;
  const shownOk = mine.filter((r) => ok(r.shown / r.disk) === 'ok').length;
  console.log(`Cascade: limit held within ±10% in ${held}/${mine.length} runs; rate shown within ±10% of disk in ${shownOk}/${mine.length}`);
  process.exitCode = failed ? 1 : 0;
}

await main();
