// A recipient's PlainStorage over a sealed share, as shares.ts makes it, for the tests that play the
// engine's side by hand (private-plain-storage, private-edge-pages and its child process).
import type { PrivateInfo } from '@cascade/private-shares';
import { chunkDecryptor, chunkEncryptor } from '@cascade/private-shares/node';
import type { PlainFiles } from '../src/plain-files.ts';
import { PlainStorage } from '../src/plain-storage.ts';
import type { PlainWriteWorker } from '../src/plain-worker-client.ts';

export interface PlainShare {
  key: Uint8Array;
  info: Pick<PrivateInfo, 'salt' | 'chunk'>;
  chunkCount: number;
  pieceLength: number;
}

export function plainStorage(s: PlainShare, files: PlainFiles, o: { pieceHashes?: Uint8Array; worker?: PlainWriteWorker; fresh?: boolean; persisted?: Promise<void>; tampered: (err: Error) => void }): PlainStorage {
  return new PlainStorage({
    worker: o.worker,
    fresh: o.fresh,
    persisted: o.persisted,
    files,
    pieceLength: s.pieceLength,
    cipherLength: s.chunkCount * s.info.chunk,
    sealed: s.info.chunk,
    chunk: s.info.chunk - 16,
    decrypt: chunkDecryptor(s.key, s.info, s.chunkCount),
    encrypt: chunkEncryptor(s.key, s.info, s.chunkCount),
    pieceHashes: o.pieceHashes ?? new Uint8Array(0),
    tampered: o.tampered,
  });
}
