// The writer that follows a private share stored as ciphertext (src/private/plain-writer.ts: a key
// that came after the download began): the plaintext read back from the verified ciphertext in runs,
// and pieces decrypted from memory as they arrive, for shares of 64 KiB and of 1 MiB chunks
// (shareChunkSize picks 1 MiB for large shares: a run holds 4 of them, not 64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChunkCipher } from '@cascade/private-shares';
import { chunkDecryptor, sealFiles } from '@cascade/private-shares/node';
import { PlainWriter } from '../src/plain-writer.ts';

for (const chunk of [65536, 1 << 20]) {
  test(`a ciphertext-stored share of ${chunk / 1024} KiB chunks: half its pieces read back from disk, the rest decrypted as they arrive, the plaintext byte-exact`, async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'cascade-plain-writer-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    // Past 64 chunks of 1 MiB: runs of 64 chunks would each want 64 MiB of aligned memory.
    const film = randomBytes((chunk > 65536 ? 70 : 9) * chunk + 12345);
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, 'src', 'film.bin'), film);
    const sealed = await sealFiles(join(root, 'src', 'film.bin'), root, [], { chunk });
    const cipher = await ChunkCipher.create(sealed.key, sealed.info, sealed.manifest.length);
    const cipherBytes = readFileSync(sealed.cipherPath);
    const pieceLength = chunk * 2;
    const pieces = Math.ceil(cipherBytes.length / pieceLength);
    const have = new Set<number>();
    for (let p = 0; p < pieces; p += 2) have.add(p);
    const saveDir = join(root, 'recipient');
    mkdirSync(saveDir);
    let finished!: () => void;
    let failed!: (err: Error) => void;
    const complete = new Promise<void>((resolve, reject) => ((finished = resolve), (failed = reject)));
    const writer = new PlainWriter({
      chunk: cipher.chunk,
      chunkCount: cipher.chunkCount,
      decrypt: chunkDecryptor(sealed.key, sealed.info, cipher.chunkCount),
      manifest: sealed.manifest,
      cipherPath: sealed.cipherPath,
      savePath: saveDir,
      pieceLength,
      havePiece: (p) => have.has(p),
      done: new Uint8Array(0),
      progress: (_done, isComplete) => isComplete && finished(),
      failed: (err) => failed(err),
    });
    await writer.start();
    for (let p = 1; p < pieces; p += 2) {
      have.add(p);
      writer.pieceData(p, cipherBytes.subarray(p * pieceLength, (p + 1) * pieceLength));
      writer.pieceVerified(p);
    }
    await complete;
    // Each of the runs written at once takes aligned memory of this size: 64 MiB runs were 448 MiB.
    assert.ok(writer.runBytes <= 4 * 1024 * 1024, `runs of ${writer.runBytes} bytes`);
    assert.ok(writer.complete);
    assert.ok(readFileSync(join(saveDir, 'film.bin')).equals(film), 'the plaintext is the original');
    await writer.close();
  });
}
