// The manifest opened with node:crypto, synchronously: WebCrypto's importKey and decrypt are two
// hops through libuv's pool, and a recipient's download waits for the manifest before its first
// piece (2-28 ms of its start in bench:private under load, for 256 bytes).
import { createDecipheriv } from 'node:crypto';
import type { PrivateInfo } from '../format/format.ts';
import { MANIFEST_NONCE, parseManifest, type ShareManifest } from '../format/manifest.ts';
import { tampered } from '../format/errors.ts';
import { deriveKey } from '../keys/keys.ts';

const TAG = 16;

/** As openManifest (format/manifest.ts): decrypts and checks the manifest, from the content key. */
export function openManifestNode(info: Pick<PrivateInfo, 'salt' | 'manifest'>, key: Uint8Array): ShareManifest {
  const sealed = info.manifest;
  if (sealed.length < MANIFEST_NONCE + TAG) throw tampered('the share\'s manifest failed authentication: it is too short');
  let padded: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', deriveKey(key, info.salt, 'manifest'), sealed.subarray(0, MANIFEST_NONCE));
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    padded = Buffer.concat([d.update(sealed.subarray(MANIFEST_NONCE, sealed.length - TAG)), d.final()]);
  } catch {
    throw tampered('the share\'s manifest failed authentication: it was changed after it was sealed');
  }
  return parseManifest(padded);
}
