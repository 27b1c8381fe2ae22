// Infohash arguments. Verbs accept a full 40-hex infohash or any unique prefix of one (like git
// commit ids), because nobody types 40 hex digits by hand.

import { InvalidInput, NodeError } from '@cascade/node-state/errors';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A 32-char base32 infohash (old magnet links use it) → 40 hex; undefined if it is not one. */
export function base32ToHex(text: string): string | undefined {
  if (!/^[A-Za-z2-7]{32}$/.test(text)) return undefined;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.toUpperCase()) {
    value = (value << 5) | BASE32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out).toString('hex');
}

/** Picks the one known infohash that `arg` names (full hash or unique prefix of at least 4 hex digits). */
export function resolveInfoHash(arg: string, known: Iterable<string>): string {
  const q = arg.trim().toLowerCase();
  const all = [...new Set(known)];
  if (/^[0-9a-f]{40}$/.test(q)) {
    if (all.includes(q)) return q;
    throw new NodeError('not-found', `no torrent with infohash ${q}`);
  }
  const matches = /^[0-9a-f]{4,39}$/.test(q) ? all.filter((h) => h.startsWith(q)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new NodeError('failed', `infohash prefix ${q} is ambiguous: ${matches.join(', ')}`);
  // 32 characters may be a base32 infohash (older magnets); hex prefixes were tried first.
  const b32 = base32ToHex(q);
  if (b32 && all.includes(b32)) return b32;
  if (/^[0-9a-f]{4,39}$/.test(q)) throw new NodeError('not-found', `no torrent with infohash starting with ${q}`);
  if (b32) throw new NodeError('not-found', `no torrent with infohash ${b32}`);
  throw new InvalidInput(`"${arg}" is not an infohash (40 hex digits, or a prefix of 4+)`);
}
