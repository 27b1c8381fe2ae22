// A recipient's storage alone (packages/private-node src/plain-storage.ts), with no network: a
// sealed file's 1 MiB pieces handed to PlainStorage.writePiece as the engine hands verified pieces
// (a few in flight, in order), and the CPU it takes: the engine's thread (this one) and the whole
// process (libuv's pool writing, V8's collector). What bench:private's downloaders pay beyond the
// public download is in here, without the swarm's noise; the plaintext is checked at the end.
// Run (under the bench lock): node bench/private/storage.ts [--mib 256] [--rounds 3] [--in-flight 6] [--chunk BYTES]
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChunkCipher, shareChunkSize } from '@cascade/private-shares';
import { sealFiles } from '@cascade/private-shares/node';
import { PlainFiles } from '../../packages/private-node/src/plain-files.ts';
import { plainStorage } from '../../packages/private-node/test/plain-share.ts';
import { median } from '../scale/proc.ts';

const { values: argv } = parseArgs({ options: { mib: { type: 'string', default: '256' }, rounds: { type: 'string', default: '3' }, 'in-flight': { type: 'string', default: '6' }, chunk: { type: 'string' } } });
// The sealed chunk size (a share's info `chunk`): by default what a new share of this size gets
// (shareChunkSize: 1 MiB for 256 MiB); 65536 was every share's before issue 40.
const CHUNK = argv.chunk ? Number(argv.chunk) : shareChunkSize(Number(argv.mib) * 1024 * 1024 - 1000);
const PIECE = 1 << 20;
const work = mkdtempSync(join(tmpdir(), 'cascade-bench-plain-storage-'));
try {
  const plain = randomBytes(Number(argv.mib) * 1024 * 1024 - 1000); // off the grid at the end too
  mkdirSync(join(work, 'sharer'));
  writeFileSync(join(work, 'film.bin'), plain);
  const sealed = await sealFiles(join(work, 'film.bin'), join(work, 'sharer'), [], { chunk: CHUNK });
  const cipherBytes = readFileSync(sealed.cipherPath);
  rmSync(join(work, 'sharer'), { recursive: true });
  const cipher = await ChunkCipher.create(sealed.key, sealed.info, sealed.manifest.length);
  const pieceCount = Math.ceil(cipherBytes.length / PIECE);
  const want = createHash('sha256').update(plain).digest('hex');
  const main: number[] = [];
  const all: number[] = [];
  for (let round = 0; round < Number(argv.rounds); round++) {
    const dir = join(work, `r${round}`);
    const share = { key: sealed.key, info: sealed.info, chunkCount: cipher.chunkCount, pieceLength: PIECE };
    const files = new PlainFiles(sealed.manifest, dir, (PIECE / CHUNK) * cipher.chunk, 16, { fresh: true });
    const store = plainStorage(share, files, { fresh: true, tampered: (err) => { throw err; } });
    // As the engine's pool: the piece in memory of its own (a copy, not a view of one big buffer).
    const slots = Array.from({ length: Number(argv['in-flight']) }, () => Buffer.allocUnsafeSlow(PIECE));
    const t0 = process.threadCpuUsage();
    const p0 = process.cpuUsage();
    const w0 = performance.now();
    let next = 0;
    await Promise.all(
      slots.map(async (slot) => {
        while (next < pieceCount) {
          const i = next++;
          const piece = cipherBytes.subarray(i * PIECE, (i + 1) * PIECE);
          const data = piece.length === PIECE ? slot : Buffer.allocUnsafeSlow(piece.length);
          data.set(piece);
          await store.writePiece(i, data);
        }
      }),
    );
    const t = process.threadCpuUsage(t0);
    const p = process.cpuUsage(p0);
    const wall = performance.now() - w0;
    await store.close();
    const got = createHash('sha256').update(readFileSync(join(dir, 'film.bin'))).digest('hex');
    if (got !== want) throw new Error('the plaintext written differs from the original');
    rmSync(dir, { recursive: true });
    main.push((t.user + t.system) / 1e6);
    all.push((p.user + p.system) / 1e6);
    console.log(`round ${round + 1}: ${(wall / 1000).toFixed(2)} s, engine's thread ${main.at(-1)!.toFixed(3)} CPU-s, process ${all.at(-1)!.toFixed(3)} CPU-s`);
  }
  console.log(`${argv.mib} MiB of 1 MiB pieces, ${CHUNK / 1024} KiB chunks, median of ${argv.rounds}: engine's thread ${median(main).toFixed(3)} CPU-s, process ${median(all).toFixed(3)} CPU-s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
