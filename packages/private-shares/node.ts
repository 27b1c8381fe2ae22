// @cascade/private-shares/node: what only Node can do (files on disk, node:crypto).
export { sealFiles, type SealedFiles } from './src/node/seal-files.ts';
export { chunkDecryptor, chunkKey, type ChunkDecryptor } from './src/node/chunk-decryptor.ts';
export { chunkEncryptor, type ChunkEncryptor } from './src/node/chunk-encryptor.ts';
export { openWithSecretNode, warmEnvelopeOpening } from './src/node/envelope-open.ts';
export { openManifestNode } from './src/node/manifest-open.ts';
export { chunkCipherInPlace, chunkGcmNotUsed } from './src/node/chunk-gcm.ts';
