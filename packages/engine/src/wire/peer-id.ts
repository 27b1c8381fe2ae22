// Peer ids (BEP 20 style: an 8-byte client prefix such as "-CS0100-", then 12 random bytes).

/** Cascade's client prefix (Azureus style: client "CS", version 0.1.0.0). */
export const PEER_ID_PREFIX = '-CS0100-';

/** A fresh peer id: the prefix, then 12 random bytes (Node and the browser alike). */
export function makePeerId(): Uint8Array {
  const id = new Uint8Array(20);
  id.set(new TextEncoder().encode(PEER_ID_PREFIX));
  crypto.getRandomValues(id.subarray(8));
  return id;
}

/** A peer id with the client prefix of `like` (its first 8 bytes) and fresh random bytes after:
 *  a hidden torrent's id, which no tracker or peer can tie to the session's own. */
export function peerIdLike(like: Uint8Array): Uint8Array {
  const id = new Uint8Array(20);
  id.set(like.subarray(0, 8));
  crypto.getRandomValues(id.subarray(8));
  return id;
}

/** Azureus-style ids: -XX1234- → "XX 1.2.3.4". */
export function clientFromPeerId(id: Uint8Array): string | undefined {
  if (id[0] !== 0x2d || id[7] !== 0x2d) return undefined;
  const s = new TextDecoder().decode(id.subarray(1, 7));
  return /^[A-Za-z]{2}[0-9A-Za-z]{4}$/.test(s) ? `${s.slice(0, 2)} ${s.slice(2)}` : undefined;
}
