// Making a share's info entry, and the link that carries a key in its fragment.
import { b64u, fromB64u } from '@cascade/identity';
import { notForYou } from '../format/errors.ts';
import { DEFAULT_CHUNK, FORMAT_VERSION, MAX_ENVELOPES, SALT_BYTES, checkChunkSize, type PrivateInfo } from '../format/format.ts';
import { deriveKey, KEY_BYTES } from './keys.ts';
import { sealEnvelope, shuffle } from './envelope.ts';
import { sealManifest, type ShareManifest } from '../format/manifest.ts';
import { equalBytes } from '@cascade/identity';

/** Builds the info entry: a fresh salt, the key check, the sealed manifest and one envelope per
 *  recipient X25519 key (none for a share opened by link). */
export async function sealInfo(key: Uint8Array, manifest: ShareManifest, recipients: Uint8Array[], chunk = DEFAULT_CHUNK): Promise<PrivateInfo> {
  if (key.length !== KEY_BYTES) throw new Error(`a content key is ${KEY_BYTES} bytes`);
  if (recipients.length > MAX_ENVELOPES) throw new Error(`a share can have at most ${MAX_ENVELOPES} recipients`);
  checkChunkSize(chunk);
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const unique = [...new Map(recipients.map((r) => [b64u(r), r])).values()];
  const envelopes = shuffle(await Promise.all(unique.map((r) => sealEnvelope(key, r, salt))));
  return {
    v: FORMAT_VERSION,
    chunk,
    salt,
    check: deriveKey(key, salt, 'check'),
    manifest: await sealManifest(manifest, key, salt),
    envelopes,
  };
}

/** Throws 'not-for-you' unless `key` is this share's content key. */
export function checkKey(info: PrivateInfo, key: Uint8Array): void {
  if (key.length !== KEY_BYTES || !equalBytes(deriveKey(key, info.salt, 'check'), info.check)) {
    throw notForYou('this key does not open this share: the link belongs to another share, or its key was changed');
  }
}

/** The magnet with the key in its fragment: a fragment never leaves the program it is given to
 *  (browsers do not send it, and Cascade strips it before the magnet goes anywhere). */
export function linkFor(magnet: string, key: Uint8Array): string {
  const hash = magnet.indexOf('#');
  return `${hash < 0 ? magnet : magnet.slice(0, hash)}#k=${b64u(key)}`;
}

/** Splits a link into the URI without its fragment and the key when the fragment holds `k=`.
 *  Throws when `k=` is there but is not a 32-byte base64url key. */
export function splitLink(link: string): { uri: string; key?: Uint8Array } {
  const hash = link.indexOf('#');
  if (hash < 0) return { uri: link };
  const uri = link.slice(0, hash);
  const k = new URLSearchParams(link.slice(hash + 1)).get('k');
  if (k === null) return { uri };
  let key: Uint8Array;
  try {
    key = fromB64u(k);
  } catch {
    throw new Error('the key in this link (#k=…) is not base64url');
  }
  if (key.length !== KEY_BYTES) throw new Error(`the key in this link (#k=…) is ${key.length} bytes, not ${KEY_BYTES}: the link was cut short or changed`);
  return { uri, key };
}
