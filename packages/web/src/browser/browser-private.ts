// Private shares in the in-browser peer (issue 24): a torrent the tab downloads that carries the
// `cascade-private` info entry is read when the tab holds its key — from a link's #k= fragment, or
// from an envelope that opens with this browser's identity (its did:key's X25519 key). The tab then
// lists the real files and saves plaintext, decrypting the verified ciphertext chunk by chunk;
// otherwise it says the share is for other people and offers nothing to save.
import {
  ChunkCipher, PrivateShareError, checkKey, fileSpan, openManifest, openWithSecret, readPrivateInfo,
  type PrivateInfo, type ShareManifest,
} from '@cascade/private-shares';

export interface TabShare {
  decryptable: boolean;
  /** Why the tab cannot read it, in plain words. */
  error?: string;
  manifest?: ShareManifest;
  cipher?: ChunkCipher;
}

/** The X25519 secrets this browser can open envelopes with (its identity's, then an older one). */
export type SecretSource = () => Promise<{ did: string; secrets: Uint8Array[] } | undefined>;

/** undefined: not a private share. */
export async function openTabShare(infoBytes: Uint8Array, linkKey: Uint8Array | undefined, identity: SecretSource): Promise<TabShare | undefined> {
  let info: PrivateInfo | undefined;
  try {
    info = readPrivateInfo(infoBytes);
  } catch (err) {
    return { decryptable: false, error: `Not a valid private share: ${(err as Error).message}` };
  }
  if (!info) return undefined;
  try {
    const key = linkKey ? (checkKey(info, linkKey), linkKey) : await openEnvelope(info, identity);
    const manifest = await openManifest(info, key);
    const cipher = await ChunkCipher.create(key, info, manifest.length);
    return { decryptable: true, manifest, cipher };
  } catch (err) {
    if (err instanceof PrivateShareError && err.code === 'tampered') return { decryptable: false, error: `This share was tampered with: ${err.message}` };
    return { decryptable: false, error: (err as Error).message };
  }
}

async function openEnvelope(info: PrivateInfo, identity: SecretSource): Promise<Uint8Array> {
  const id = await identity();
  for (const secret of id?.secrets ?? []) {
    try {
      return await openWithSecret(info, secret);
    } catch (err) {
      if (!(err instanceof PrivateShareError) || err.code !== 'not-for-you') throw err;
    }
  }
  if (info.envelopes.length === 0) throw new Error('This share is encrypted and opens only with its link (…#k=…): add it with the link to read it.');
  throw new Error(
    id
      ? `This share is encrypted for other people: none of its ${info.envelopes.length} key envelope(s) is for this browser's identity (${id.did}).`
      : 'This share is encrypted for its recipients, and this browser has no identity yet: sign in with your key to read shares made for you.',
  );
}

/**
 * File `index` of a readable share as plaintext, from the whole ciphertext (the torrent's one file):
 * each chunk under the file is authenticated and decrypted; a chunk that fails throws, naming it.
 */
export async function decryptFile(share: TabShare, ciphertext: Blob, index: number): Promise<Blob> {
  const { cipher, manifest } = share;
  if (!share.decryptable || !cipher || !manifest) throw new Error(share.error ?? 'this share cannot be read here');
  const span = fileSpan(manifest, index, cipher.chunk);
  const parts: Uint8Array[] = [];
  for (let c = span.firstChunk; c <= span.lastChunk; c++) {
    const at = cipher.cipherOffset(c);
    const sealed = new Uint8Array(await ciphertext.slice(at, at + cipher.sealed).arrayBuffer());
    const plain = await cipher.decryptChunk(c, sealed);
    const base = c * cipher.chunk;
    parts.push(plain.subarray(Math.max(0, span.offset - base), Math.min(cipher.chunk, span.offset + span.length - base)));
  }
  return new Blob(parts as BlobPart[]);
}
