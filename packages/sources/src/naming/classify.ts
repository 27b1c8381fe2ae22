// The protocol manager's first step: what kind of thing a user named, from its spelling alone, so
// the one download command (and POST /api/torrents {"uri"}) hands it to the right handler. Pure:
// whether a path is an existing file is the caller's to say; fetching and parsing come after.

import { createRequire } from 'node:module';

export type Identifier =
  /** magnet:?xt=urn:btih:… / urn:btmh:… (v1, v2 or hybrid: the engine parses it) */
  | { kind: 'magnet'; text: string }
  /** a .torrent file on this machine */
  | { kind: 'torrent-file'; path: string }
  /** v1: 40 hex or 32 base32 (SHA-1); normalised to lower-case hex only when it was hex */
  | { kind: 'infohash-v1'; infoHash: string }
  /** v2: 64 hex (SHA-256 of the info dictionary) */
  | { kind: 'infohash-v2'; infoHash: string }
  /** a CIDv1 of a file's bytes (@cascade/content) */
  | { kind: 'content-id'; cid: string }
  /** http(s) or ftp URL: a .torrent's or a plain file's; which one is known once it answers */
  | { kind: 'url'; url: string; scheme: 'http' | 'https' | 'ftp' };

export const ACCEPTED =
  'a magnet link, a .torrent file or its http(s) URL, a v1 (40 hex) or v2 (64 hex) infohash, ' +
  'a content id (bafkrei…), or an http(s):// or ftp:// URL of a file';

export class UnknownIdentifier extends Error {
  constructor(text: string) {
    const shown = text.length > 80 ? `${text.slice(0, 77)}…` : text;
    super(`"${shown}" is not something Cascade can download: give ${ACCEPTED}`);
  }
}

/** The kind of `input`; `isFile` says whether it names an existing regular file here. Throws
 *  UnknownIdentifier for anything no handler takes (the message lists what is accepted). */
export function classifyIdentifier(input: string, isFile = false): Identifier {
  const text = input.trim();
  if (isFile) return { kind: 'torrent-file', path: input };
  if (/^magnet:\?/i.test(text)) return { kind: 'magnet', text };
  if (/^[0-9a-f]{40}$/i.test(text)) return { kind: 'infohash-v1', infoHash: text.toLowerCase() };
  if (/^[a-z2-7]{32}$/i.test(text)) return { kind: 'infohash-v1', infoHash: text };
  if (/^[0-9a-f]{64}$/i.test(text)) return { kind: 'infohash-v2', infoHash: text.toLowerCase() };
  const scheme = /^(https?|ftp):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UnknownIdentifier(input);
    }
    if (!url.hostname) throw new UnknownIdentifier(input);
    return { kind: 'url', url: url.href, scheme: scheme as 'http' | 'https' | 'ftp' };
  }
  if (mayBeCid(text) && contentIds().isContentId(text)) return { kind: 'content-id', cid: text };
  throw new UnknownIdentifier(input);
}

/** Whether `text` is spelt as a CID can be (a multibase prefix CID.parse reads alone — base32 b,
 *  base58btc z, base36 k, or a CIDv0's Q — then letters and digits): only such text is handed to
 *  the real check, so a magnet, a .torrent or an infohash never loads it. */
function mayBeCid(text: string): boolean {
  return /^[bzkQ][0-9A-Za-z]{20,200}$/.test(text);
}

/** @cascade/content/cid, loaded (synchronously: classifyIdentifier is) the first time some text may
 *  be a content id. Imported at the top, it brought multiformats' ~40 modules into every `cascade
 *  download` of a torrent, which never reads a CID (issue 64 item 4). */
function contentIds(): typeof import('@cascade/content/cid') {
  return createRequire(import.meta.url)('@cascade/content/cid') as typeof import('@cascade/content/cid');
}

/** A hex SHA-256 as bytes, or an error naming the problem (for --sha256). */
export function parseSha256(hex: string): Uint8Array {
  const t = hex.trim();
  if (!/^[0-9a-f]{64}$/i.test(t)) throw new Error(`--sha256 must be 64 hex digits (a SHA-256), not "${hex}"`);
  return Uint8Array.from(Buffer.from(t, 'hex'));
}
