// The manifest: the share's real name, its files' paths and sizes. Sealed with a key derived from the
// content key, padded to 256 bytes so its length says little about the names. Opening checks paths
// the way a torrent's paths are checked: a sealed share is still input from a stranger's client.
import { fromUtf8, utf8 } from '@cascade/identity';
import { badFormat, tampered } from './errors.ts';
import type { PrivateInfo } from './format.ts';
import { aesKey, deriveKey } from '../keys/keys.ts';

export interface ShareFile {
  path: string[];
  length: number;
}
export interface ShareManifest {
  name: string;
  files: ShareFile[];
  /** All files' bytes together: the plaintext stream before padding. */
  length: number;
}

const PAD = 256;
/** The manifest's nonce, before its ciphertext in info `manifest`. */
export const MANIFEST_NONCE = 12;
const NONCE = MANIFEST_NONCE;
export const MAX_FILES = 100_000;
const MAX_COMPONENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;

export async function sealManifest(manifest: ShareManifest, key: Uint8Array, salt: Uint8Array): Promise<Uint8Array> {
  checkManifest(manifest);
  const json = utf8(JSON.stringify({ name: manifest.name, files: manifest.files.map((f) => ({ path: f.path, length: f.length })), length: manifest.length }));
  const padded = new Uint8Array(Math.ceil((json.length + 1) / PAD) * PAD);
  padded.set(json);
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(NONCE));
  const k = await aesKey(deriveKey(key, salt, 'manifest'));
  const sealed = new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, k, padded));
  const out = new Uint8Array(NONCE + sealed.length);
  out.set(nonce);
  out.set(sealed, NONCE);
  return out;
}

/** Decrypts and checks the manifest (after checkKey or openWithSecret gave the key). */
export async function openManifest(info: PrivateInfo, key: Uint8Array): Promise<ShareManifest> {
  const k = await aesKey(deriveKey(key, info.salt, 'manifest'));
  let padded: Uint8Array;
  try {
    padded = new Uint8Array(
      await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: info.manifest.slice(0, NONCE) }, k, info.manifest.slice(NONCE)),
    );
  } catch {
    throw tampered('the share\'s manifest failed authentication: it was changed after it was sealed');
  }
  return parseManifest(padded);
}

/** The manifest from its decrypted, zero-padded JSON (openManifest, and node/manifest-open.ts). */
export function parseManifest(padded: Uint8Array): ShareManifest {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(padded.subarray(0, end)));
  } catch {
    throw badFormat('the manifest is not JSON');
  }
  return checkManifest(parsed);
}

/** Throws a 'bad-format' PrivateShareError unless `m` is a manifest whose paths are safe to write. */
export function checkManifest(m: unknown): ShareManifest {
  if (!m || typeof m !== 'object') throw badFormat('the manifest is not an object');
  const { name, files, length } = m as Record<string, unknown>;
  checkComponent(name, 'name');
  if (!Array.isArray(files) || files.length === 0 || files.length > MAX_FILES) throw badFormat(`the manifest must list 1 to ${MAX_FILES} files`);
  if (!isSize(length)) throw badFormat('the manifest\'s length must be a whole number of bytes');
  let total = 0;
  const seen = new Set<string>();
  const out: ShareFile[] = files.map((f, i) => {
    if (!f || typeof f !== 'object') throw badFormat(`file ${i} is not an object`);
    const { path, length: size } = f as Record<string, unknown>;
    if (!Array.isArray(path) || path.length === 0) throw badFormat(`file ${i} has no path`);
    for (const c of path) checkComponent(c, `file ${i}'s path`);
    const joined = (path as string[]).join('/');
    if (utf8(joined).length > MAX_PATH_BYTES) throw badFormat(`file ${i}'s path is over ${MAX_PATH_BYTES} bytes`);
    if (seen.has(joined)) throw badFormat(`file ${i}'s path "${joined}" appears twice`);
    seen.add(joined);
    if (!isSize(size)) throw badFormat(`file ${i}'s length must be a whole number of bytes`);
    total += size;
    return { path: [...(path as string[])], length: size };
  });
  if (total !== length) throw badFormat(`the files add up to ${total} bytes, the manifest says ${length}`);
  return { name: name as string, files: out, length: length as number };
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function checkComponent(c: unknown, what: string): asserts c is string {
  if (typeof c !== 'string' || c === '' || c === '.' || c === '..') throw badFormat(`${what} has an empty, "." or ".." component`);
  if (/[/\\\0-\x1f\x7f]/.test(c)) throw badFormat(`${what} has a slash or a control character`);
  if (/^[a-zA-Z]:/.test(c)) throw badFormat(`${what} starts with a drive letter`);
  if (utf8(c).length > MAX_COMPONENT_BYTES) throw badFormat(`${what} has a component over ${MAX_COMPONENT_BYTES} bytes`);
}

export { isSingleFile, plaintextPath } from './paths.ts';
