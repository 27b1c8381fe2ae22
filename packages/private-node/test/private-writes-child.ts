// A recipient's plaintext writes in a process of their own, for private-edge-pages.test.ts to kill
// mid-way (kill -9): verified pieces written as the engine writes them (several at once, in the
// order given), each reported on stdout once its write resolved ("done N"), which is when the
// engine marks a piece done.
import { readFileSync } from 'node:fs';
import type { ShareManifest } from '@cascade/private-shares';
import { PlainFiles } from '../src/plain-files.ts';
import { plainStorage } from './plain-share.ts';

interface Job {
  cipherPath: string;
  saveDir: string;
  key: string;
  salt: string;
  chunk: number;
  chunkCount: number;
  pieceLength: number;
  manifest: ShareManifest;
  order: number[];
  inFlight: number;
}

const job = JSON.parse(process.argv[2]!) as Job;
const cipherBytes = readFileSync(job.cipherPath);
const share = { key: Buffer.from(job.key, 'hex'), info: { salt: Buffer.from(job.salt, 'hex'), chunk: job.chunk }, chunkCount: job.chunkCount, pieceLength: job.pieceLength };
const files = new PlainFiles(job.manifest, job.saveDir, (job.pieceLength / job.chunk) * (job.chunk - 16), 4, { fresh: true });
const store = plainStorage(share, files, {
  fresh: true,
  tampered: (err) => {
    throw err;
  },
});
const out: Promise<void>[] = [];
for (const i of job.order) {
  if (out.length >= job.inFlight) await out.shift();
  out.push(store.writePiece(i, cipherBytes.subarray(i * job.pieceLength, (i + 1) * job.pieceLength)).then(() => void process.stdout.write(`done ${i}\n`)));
}
await Promise.all(out);
process.stdout.write('all\n');
