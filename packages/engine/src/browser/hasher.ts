// SHA-1 in the browser: WebCrypto (native speed, async) where the page is a secure context,
// the pure-JS fallback elsewhere (plain http:// on a LAN address has no crypto.subtle).
import type { Hasher } from '../platform.ts';
import { sha1 } from '../sha1.ts';

export async function sha1Digest(data: Uint8Array): Promise<Uint8Array> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle) return new Uint8Array(await subtle.digest('SHA-1', data as Uint8Array<ArrayBuffer>));
  return sha1(data);
}

export function createBrowserHasher(): Hasher {
  return {
    async sha1(data) {
      return { digest: await sha1Digest(data), data };
    },
    async close() {},
  };
}
