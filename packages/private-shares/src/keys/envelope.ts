// Envelopes: the content key sealed to each recipient with HPKE (RFC 9180, base mode,
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM). An envelope is enc || ciphertext and names
// nobody: a recipient tries each one. The info string binds an envelope to its share's salt, so an
// envelope copied into another share does not open there.
import type { CipherSuite } from '@hpke/core';
import { concat, utf8 } from '@cascade/identity';
import { notForYou } from '../format/errors.ts';
import { ENVELOPE_BYTES, type PrivateInfo } from '../format/format.ts';
import { KEY_BYTES } from './keys.ts';

/** An envelope's first bytes: the sender's ephemeral X25519 public key (HPKE's enc). */
export const ENC_BYTES = 32;
let suiteOnce: Promise<CipherSuite> | undefined;
// @hpke/core is 43 modules: loaded with the first envelope sealed or opened, not by every process
// that imports this package (each `cascade download` did, some 40 ms of its start-up).
const suite = () =>
  (suiteOnce ??= import('@hpke/core').then(({ Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 }) =>
    new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() })));

/** HPKE's info for a share's envelopes: binds each to the share's salt. */
export const envelopeInfo = (salt: Uint8Array): Uint8Array => concat(utf8('cascade-private/v1/envelope'), salt);

export async function sealEnvelope(key: Uint8Array, recipient: Uint8Array, salt: Uint8Array): Promise<Uint8Array> {
  const s = await suite();
  const recipientPublicKey = await s.kem.deserializePublicKey(recipient as Uint8Array<ArrayBuffer>);
  const { ct, enc } = await s.seal({ recipientPublicKey, info: envelopeInfo(salt) as Uint8Array<ArrayBuffer> }, key as Uint8Array<ArrayBuffer>);
  const out = concat(new Uint8Array(enc), new Uint8Array(ct));
  if (out.length !== ENVELOPE_BYTES) throw new Error(`an envelope came out ${out.length} bytes, not ${ENVELOPE_BYTES}`);
  return out;
}

/** The content key from the first envelope this X25519 secret opens; 'not-for-you' when none does. */
export async function openWithSecret(info: PrivateInfo, x25519Secret: Uint8Array): Promise<Uint8Array> {
  const s = await suite();
  const recipientKey = await s.kem.deserializePrivateKey(x25519Secret as Uint8Array<ArrayBuffer>);
  const hpkeInfo = envelopeInfo(info.salt) as Uint8Array<ArrayBuffer>;
  for (const e of info.envelopes) {
    try {
      const pt = new Uint8Array(await s.open({ recipientKey, enc: e.slice(0, ENC_BYTES), info: hpkeInfo }, e.slice(ENC_BYTES)));
      if (pt.length === KEY_BYTES) return pt;
    } catch {
      // Another recipient's envelope (or garbage): AEAD failure is the only answer HPKE gives.
    }
  }
  throw noEnvelopeOpens(info);
}

/** What a recipient is told when none of a share's envelopes opens with its identity. */
export function noEnvelopeOpens(info: Pick<PrivateInfo, 'envelopes'>): Error {
  return notForYou(
    info.envelopes.length === 0
      ? 'this share is opened by the key in its link, and no link key was given'
      : `this share is encrypted for other people: none of its ${info.envelopes.length} envelope(s) opens with this identity`,
  );
}

/** Fisher-Yates with crypto randomness: envelope order must not reveal the order recipients were named in. */
export function shuffle<T>(items: T[]): T[] {
  const r = new Uint32Array(items.length);
  globalThis.crypto.getRandomValues(r);
  for (let i = items.length - 1; i > 0; i--) {
    const j = r[i]! % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
