// SHA-1 and SHA-256 in the browser: WebCrypto (native speed, async) where the page is a secure context,
// the pure-JS fallback elsewhere (plain http:// on a LAN address has no crypto.subtle).
import type { Hasher } from '../platform.ts';
import { sha1 } from '../hashing/sha1.ts';
import { sha256 } from '../hashing/sha256.ts';

async function digest(algorithm: 'SHA-1' | 'SHA-256', fallback: (d: Uint8Array) => Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) return new Uint8Array(await subtle.digest(algorithm, data as Uint8Array<ArrayBuffer>));
  return fallback(data);
}

export const sha1Digest = (data: Uint8Array) => digest('SHA-1', sha1, data);
export const sha256Digest = (data: Uint8Array) => digest('SHA-256', sha256, data);

export function createBrowserHasher(): Hasher {
  return {
    async sha1(data) {
      return { digest: await sha1Digest(data), data };
    },
    sha256: sha256Digest,
    async close() {},
  };
}
