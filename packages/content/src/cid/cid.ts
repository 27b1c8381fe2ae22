// Content ids: a CIDv1 of a file's bytes, as IPFS and Torrentium name raw blocks — the `raw` codec
// (0x55) over a sha2-256 multihash of the whole file, base32 ("bafkrei…"). Nothing else goes in:
// two files with the same bytes have the same id whatever their names or torrents.

import { CID } from 'multiformats/cid';

export { CID };
import * as Digest from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';

const RAW = 0x55;

/** The content id of a file whose SHA-256 is `digest` (32 bytes). */
export function cidFromSha256(digest: Uint8Array): string {
  if (digest.length !== 32) throw new Error(`a SHA-256 digest is 32 bytes, not ${digest.length}`);
  return CID.createV1(RAW, Digest.create(sha256.code, digest)).toString();
}

/** The SHA-256 a content id names, or an error saying why the text is not one of ours. */
export function sha256FromCid(text: string): Uint8Array {
  let cid: CID;
  try {
    cid = CID.parse(text.trim());
  } catch (err) {
    throw new Error(`not a content id: ${(err as Error).message}`);
  }
  if (cid.version !== 1) throw new Error('not a content id: only CIDv1 names file contents');
  if (cid.multihash.code !== sha256.code) throw new Error('not a content id: its hash is not sha2-256');
  if (cid.code !== RAW) throw new Error(`not a content id of file bytes: codec 0x${cid.code.toString(16)} is not raw (0x55)`);
  return cid.multihash.digest;
}

/** True when `text` parses as a content id (`sha256FromCid` would not throw). */
export function isContentId(text: string): boolean {
  try {
    sha256FromCid(text);
    return true;
  } catch {
    return false;
  }
}

/** True when `text` is a CIDv1 dag-pb over sha2-256: a UnixFS root as @helia/unixfs names a file
 *  of more than one chunk (unixfs.ts); a file of one chunk is named by its content id itself. */
export function isUnixfsCid(text: string): boolean {
  try {
    const cid = CID.parse(text.trim());
    return cid.version === 1 && cid.code === 0x70 && cid.multihash.code === sha256.code;
  } catch {
    return false;
  }
}

/** Any CID (v0 or v1, any codec), or undefined when `text` is not one. */
export function parseCid(text: string): CID | undefined {
  try {
    // CIDv0 ("Qm…") and base32 CIDv1 parse without a base given; other bases need their decoder.
    return CID.parse(text.trim());
  } catch {
    return undefined;
  }
}
