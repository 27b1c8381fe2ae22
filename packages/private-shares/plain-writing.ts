// @cascade/private-shares/plain-writing: what a node writing a share's plaintext from its sealed
// chunks needs, and nothing else of the package (no envelopes, HPKE or curves): a worker thread
// that decrypts a recipient's pieces starts on it in milliseconds.
export { chunkOpener, type ChunkDecryptor } from './src/node/chunk-open.ts';
export { chunkCipherInPlace } from './src/node/chunk-gcm.ts';
export { plaintextPath, isSingleFile } from './src/format/paths.ts';
export { TAG_BYTES } from './src/format/nonce.ts';
export type { ShareManifest } from './src/format/manifest.ts';
