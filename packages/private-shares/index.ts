// @cascade/private-shares: files only their recipients can read, seeded by anyone (format v1,
// docs/private-shares.md). Chunked AES-256-GCM content, a sealed manifest, HPKE envelopes to the
// recipients' did:key-derived X25519 keys, all inside the torrent's info dictionary. Platform-free:
// WebCrypto and @noble only, the same code in the node and in a browser tab.
export { PrivateShareError, type PrivateShareErrorCode } from './src/format/errors.ts';
export {
  INFO_KEY, FORMAT_VERSION, DEFAULT_CHUNK, TAG_BYTES, ENVELOPE_BYTES, MAX_ENVELOPES,
  readPrivateInfo, parsePrivateInfo, neutralName, sharePieceLength, shareChunkSize, type PrivateInfo,
} from './src/format/format.ts';
export { newContentKey, recipientKeyFromDid, recipientSecretFromSigningSecret } from './src/keys/keys.ts';
export { openWithSecret, sealEnvelope } from './src/keys/envelope.ts';
export { openManifest, checkManifest, isSingleFile, plaintextPath, type ShareFile, type ShareManifest } from './src/format/manifest.ts';
export { ChunkCipher, encryptStream, fileSpan } from './src/format/chunks.ts';
export { sealInfo, checkKey, linkFor, splitLink } from './src/keys/seal.ts';
