// AES-256-GCM for a share's chunks written into memory the caller gives (native/chunk-gcm.c, built
// by npm install), where node:crypto allocates a fresh zero-filled Buffer for each chunk's output
// that the caller then copies: on a private download bound by the main thread, that allocation, the
// copy, the page faults of fresh memory and the collections they start cost more than the AES itself
// (bench/private). Where the addon is not built or does not load, or CASCADE_NATIVE_GCM=off, the
// callers use node:crypto: the same bytes either way (chunk-gcm.test.ts checks both).
import { createCipheriv, createSecretKey } from 'node:crypto';
import { createRequire } from 'node:module';

export interface ChunkGcmAddon {
  /** The key schedule for one share's chunk key (32 bytes). */
  context(key: Uint8Array): object;
  /** Opens sealed (ciphertext || 16-byte tag) into out (its plaintext's length); false: the tag
   *  does not match, and out holds bytes to drop. */
  open(ctx: object, nonce: Uint8Array, sealed: Uint8Array, out: Uint8Array): boolean;
  /** Seals plain, zero-padded to out's body, into out (ciphertext || tag). */
  seal(ctx: object, nonce: Uint8Array, plain: Uint8Array, out: Uint8Array): void;
}

let loaded: ChunkGcmAddon | null | undefined;
/** Why it is not used, for the one who asks (tests, diagnostics). */
let notUsed: string | undefined;

/** The addon, or undefined where it is not built, does not load, or seals other bytes than
 *  node:crypto (checked once when it loads). */
export function chunkGcmAddon(): ChunkGcmAddon | undefined {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.CASCADE_NATIVE_GCM === 'off') notUsed = 'CASCADE_NATIVE_GCM=off';
    else {
      try {
        const addon = createRequire(import.meta.url)('../../native/build/chunk-gcm.node') as ChunkGcmAddon;
        if (sealsLikeNodeCrypto(addon)) loaded = addon;
        else notUsed = 'it sealed other bytes than node:crypto';
      } catch (err) {
        notUsed = `it did not load: ${(err as Error).message.split('\n')[0]}`;
      }
    }
  }
  return loaded ?? undefined;
}

/** Why chunkGcmAddon() is undefined ('' when it is not). */
export function chunkGcmNotUsed(): string {
  chunkGcmAddon();
  return notUsed ?? '';
}

/** A build against another OpenSSL than the one in this process would show here, not on a share. */
function sealsLikeNodeCrypto(addon: ChunkGcmAddon): boolean {
  const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const nonce = new Uint8Array(12).map((_, i) => 255 - i);
  const plain = new Uint8Array(100).map((_, i) => i);
  const out = new Uint8Array(200 + 16);
  addon.seal(addon.context(key), nonce, plain, out);
  const c = createCipheriv('aes-256-gcm', createSecretKey(key), nonce);
  const want = Buffer.concat([c.update(plain), c.update(new Uint8Array(100)), c.final(), c.getAuthTag()]);
  if (!want.equals(out)) return false;
  const back = new Uint8Array(200);
  return addon.open(addon.context(key), nonce, out, back) && back.subarray(0, 100).every((b, i) => b === i);
}

/** Whether chunks are sealed and opened straight into the caller's memory (the addon), leaving no
 *  garbage behind (node:crypto leaves a Buffer per chunk). */
export function chunkCipherInPlace(): boolean {
  return chunkGcmAddon() !== undefined;
}
