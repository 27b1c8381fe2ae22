// The info-dictionary entry of a private share (format v1, docs/private-shares.md). It sits inside
// `info`, so the infohash covers the envelopes, the sealed manifest and the parameters: nobody can
// swap them without making another torrent. Standard clients ignore the unknown key.
import { decode, isDict, BencodeError, type BValue } from '@cascade/engine/bencode';
import { badFormat, PrivateShareError } from './errors.ts';
import { CHECK_BYTES } from '../keys/keys.ts';
import { TAG_BYTES } from './nonce.ts';

export const INFO_KEY = 'cascade-private';
export const FORMAT_VERSION = 1;
export const DEFAULT_CHUNK = 65536;
/** The largest chunk shareChunkSize picks. */
const MAX_SHARE_CHUNK = 1 << 20;
export { TAG_BYTES };
export const SALT_BYTES = 16;
/** HPKE enc (X25519 public key, 32) + sealed content key (32 + 16-byte tag). */
export const ENVELOPE_BYTES = 80;
export const MIN_CHUNK = 16 * 1024;
export const MAX_CHUNK = 16 * 1024 * 1024;
export const MAX_ENVELOPES = 1000;
/** nonce (12) + at most 1 MiB of padded JSON + tag: far beyond 10,000 long paths. */
export const MAX_MANIFEST_BYTES = 12 + (1 << 20) + TAG_BYTES;

/** The value under INFO_KEY, bencode-ready (byte strings as Uint8Array, integers as numbers). */
export interface PrivateInfo {
  v: 1;
  chunk: number;
  salt: Uint8Array;
  check: Uint8Array;
  manifest: Uint8Array;
  envelopes: Uint8Array[];
}

/**
 * The piece length of a private share's torrent: whole chunks (a recipient decrypts each piece as it
 * arrives), and up to 1 MiB while the share keeps at least 128 pieces. A recipient pays for every
 * piece on top of its bytes: the 16-byte tags put the plaintext off the 4 KiB grid, so each piece's
 * two edges go through the page cache beside its O_DIRECT middle. With the default table's 256 KiB
 * pieces for 256 MiB that was 2,048 small writes more than a public download (bench:private,
 * issue 40: private 0.66x public at 1.43-1.73 CPU-s; with 1 MiB pieces 0.82x at 1.24-1.51).
 * `defaultLength`: the engine's default for the ciphertext's length (defaultPieceLength).
 */
export function sharePieceLength(cipherLength: number, chunk: number, defaultLength: number): number {
  let wide = 1 << 20;
  while (wide > chunk && cipherLength / wide < 128) wide /= 2;
  return Math.max(defaultLength, chunk, wide);
}

/**
 * The sealed chunk size a new share of `plainLength` bytes is made with: 64 KiB (DEFAULT_CHUNK),
 * doubled up to 1 MiB while the share keeps at least 256 chunks, so the last chunk's padding stays
 * under 1/256 of it. A recipient authenticates and decrypts each chunk on the engine's thread:
 * 1 MiB chunks measured ~75-80 ms of node:crypto per 256 MiB against 110-130 ms in 64 KiB ones
 * (a call, a key schedule and two allocations per chunk; bench/private/README.md). `maxChunk`:
 * a piece length chosen by hand, which a chunk must not pass (a piece holds whole chunks).
 * Every size 16 KiB … 16 MiB stays readable: the info entry says which one a share uses.
 */
export function shareChunkSize(plainLength: number, maxChunk = MAX_SHARE_CHUNK): number {
  let chunk = DEFAULT_CHUNK;
  while (chunk * 2 <= Math.min(maxChunk, MAX_SHARE_CHUNK) && plainLength / (chunk * 2) >= 256) chunk *= 2;
  return chunk;
}

export function checkChunkSize(chunk: number): number {
  if (!Number.isInteger(chunk) || chunk < MIN_CHUNK || chunk > MAX_CHUNK || (chunk & (chunk - 1)) !== 0) {
    throw badFormat(`chunk size must be a power of two between ${MIN_CHUNK} and ${MAX_CHUNK}, got ${chunk}`);
  }
  return chunk;
}

/** From a torrent's raw info-dictionary bytes: undefined when it is not a private share; throws a
 *  PrivateShareError ('bad-format' | 'unsupported-version') when the entry is there but unusable. */
export function readPrivateInfo(infoBytes: Uint8Array): PrivateInfo | undefined {
  let info: BValue;
  try {
    info = decode(infoBytes, { shape: { [INFO_KEY]: true } }).value;
  } catch (err) {
    if (err instanceof BencodeError) throw badFormat(`the info dictionary does not decode (${err.message})`);
    throw err;
  }
  if (!isDict(info)) throw badFormat('the info dictionary is not a dictionary');
  const raw = info[INFO_KEY];
  if (raw === undefined) return undefined;
  return parsePrivateInfo(raw);
}

export function parsePrivateInfo(raw: BValue): PrivateInfo {
  if (!isDict(raw)) throw badFormat(`"${INFO_KEY}" must be a dictionary`);
  const v = raw['v'];
  if (typeof v !== 'number') throw badFormat('"v" must be an integer');
  if (v !== FORMAT_VERSION) {
    throw new PrivateShareError('unsupported-version', `this share uses private-share format v${v}; this client reads v${FORMAT_VERSION}`);
  }
  const chunk = raw['chunk'];
  if (typeof chunk !== 'number') throw badFormat('"chunk" must be an integer');
  checkChunkSize(chunk);
  const salt = bytes(raw, 'salt', SALT_BYTES);
  const check = bytes(raw, 'check', CHECK_BYTES);
  const manifest = raw['manifest'];
  if (!(manifest instanceof Uint8Array) || manifest.length < 12 + TAG_BYTES + 256 || manifest.length > MAX_MANIFEST_BYTES) {
    throw badFormat('"manifest" must be a sealed manifest (nonce, at least 256 padded bytes, tag)');
  }
  const list = raw['envelopes'];
  if (!Array.isArray(list)) throw badFormat('"envelopes" must be a list');
  if (list.length > MAX_ENVELOPES) throw badFormat(`more than ${MAX_ENVELOPES} envelopes`);
  const envelopes = list.map((e, i) => {
    if (!(e instanceof Uint8Array) || e.length !== ENVELOPE_BYTES) throw badFormat(`envelope ${i} must be ${ENVELOPE_BYTES} bytes`);
    return e;
  });
  return { v: 1, chunk, salt, check, manifest, envelopes };
}

function bytes(d: Record<string, BValue>, key: string, length: number): Uint8Array {
  const b = d[key];
  if (!(b instanceof Uint8Array) || b.length !== length) throw badFormat(`"${key}" must be ${length} bytes`);
  return b;
}

/** The torrent's visible name: says nothing of the content. */
export function neutralName(salt: Uint8Array): string {
  let hex = '';
  for (const b of salt.subarray(0, 6)) hex += b.toString(16).padStart(2, '0');
  return `cascade-private-${hex}`;
}
