// Opening an envelope (envelope.ts) with node:crypto alone: HPKE base mode (RFC 9180),
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, the receiving half only. @hpke/core is 43
// modules loaded on the first envelope and X25519 in JavaScript: a recipient's download waited
// 30–80 ms for its first envelope (bench/private); here it is a fraction of a millisecond.
// test/private-shares.test.ts opens envelopes sealed by @hpke/core with it.
import { createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { ENVELOPE_BYTES, type PrivateInfo } from '../format/format.ts';
import { ENC_BYTES, envelopeInfo, noEnvelopeOpens } from '../keys/envelope.ts';
import { KEY_BYTES, deriveKey } from '../keys/keys.ts';

const TAG = 16;
const ascii = (s: string) => Buffer.from(s, 'latin1');
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const KEM_SUITE = Buffer.concat([ascii('KEM'), u16(0x0020)]);
const HPKE_SUITE = Buffer.concat([ascii('HPKE'), u16(0x0020), u16(0x0001), u16(0x0002)]);
const V1 = ascii('HPKE-v1');
// DER headers of an X25519 private key (PKCS #8) and public key (SPKI) around their 32 raw bytes.
const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI = Buffer.from('302a300506032b656e032100', 'hex');

const extract = (salt: Uint8Array, ikm: Uint8Array) => createHmac('sha256', salt).update(ikm).digest();

function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out: Buffer[] = [];
  let t: Buffer = Buffer.alloc(0);
  for (let i = 1; out.length * 32 < length; i++) out.push((t = createHmac('sha256', prk).update(t).update(info).update(Buffer.from([i])).digest()));
  return Buffer.concat(out).subarray(0, length);
}

const labeledExtract = (suite: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array) => extract(salt, Buffer.concat([V1, suite, ascii(label), ikm]));
const labeledExpand = (suite: Buffer, prk: Uint8Array, label: string, info: Uint8Array, length: number) =>
  expand(prk, Buffer.concat([u16(length), V1, suite, ascii(label), info]), length);

interface Recipient {
  skR: KeyObject;
  pkRm: Buffer;
}

/** A secret's key objects, made once: the node passes the same secrets to every share it opens. */
const recipients = new WeakMap<Uint8Array, Recipient>();

function recipientOf(x25519Secret: Uint8Array): Recipient {
  let r = recipients.get(x25519Secret);
  if (!r) {
    const skR = createPrivateKey({ key: Buffer.concat([PKCS8, x25519Secret]), format: 'der', type: 'pkcs8' });
    r = { skR, pkRm: createPublicKey(skR).export({ format: 'der', type: 'spki' }).subarray(SPKI.length) };
    recipients.set(x25519Secret, r);
  }
  return r;
}

/**
 * Makes these secrets' key objects and runs each primitive an envelope and a manifest need once
 * (X25519, HMAC-SHA256, AES-256-GCM, HKDF), for a node to call while idle: the first envelope a
 * process opened cost 2-3 ms more than the next (OpenSSL's and V8's first calls), 5-8 ms of a
 * recipient's start under load in bench:private, where the public download pays nothing alike.
 */
export function warmEnvelopeOpening(x25519Secrets: readonly Uint8Array[]): void {
  for (const secret of x25519Secrets) {
    const { skR, pkRm } = recipientOf(secret);
    diffieHellman({ privateKey: skR, publicKey: createPublicKey({ key: Buffer.concat([SPKI, pkRm]), format: 'der', type: 'spki' }) });
  }
  const zeros = new Uint8Array(32);
  labeledExpand(HPKE_SUITE, labeledExtract(KEM_SUITE, zeros, 'eae_prk', zeros), 'key', zeros, 32);
  deriveKey(zeros, zeros, 'manifest');
  const d = createDecipheriv('aes-256-gcm', zeros, zeros.subarray(0, 12));
  d.setAuthTag(zeros.subarray(0, TAG));
  d.update(zeros);
  try {
    d.final();
  } catch {
    // Expected: zeros are no sealed message.
  }
}

/** The content key from the first envelope this X25519 secret opens; 'not-for-you' when none does
 *  (what envelope.ts openWithSecret answers, without @hpke/core). */
export function openWithSecretNode(info: PrivateInfo, x25519Secret: Uint8Array): Uint8Array {
  const { skR, pkRm } = recipientOf(x25519Secret);
  const hpkeInfo = envelopeInfo(info.salt);
  const empty = Buffer.alloc(0);
  // The key schedule's context does not depend on the envelope (base mode, no PSK).
  const context = Buffer.concat([
    Buffer.from([0]),
    labeledExtract(HPKE_SUITE, empty, 'psk_id_hash', empty),
    labeledExtract(HPKE_SUITE, empty, 'info_hash', hpkeInfo),
  ]);
  for (const e of info.envelopes) {
    if (e.length !== ENVELOPE_BYTES) continue;
    try {
      const enc = e.subarray(0, ENC_BYTES);
      const pkE = createPublicKey({ key: Buffer.concat([SPKI, enc]), format: 'der', type: 'spki' });
      const dh = diffieHellman({ privateKey: skR, publicKey: pkE });
      const eaePrk = labeledExtract(KEM_SUITE, empty, 'eae_prk', dh);
      const shared = labeledExpand(KEM_SUITE, eaePrk, 'shared_secret', Buffer.concat([enc, pkRm]), 32);
      const secret = labeledExtract(HPKE_SUITE, shared, 'secret', empty);
      const key = labeledExpand(HPKE_SUITE, secret, 'key', context, 32);
      const nonce = labeledExpand(HPKE_SUITE, secret, 'base_nonce', context, 12);
      const sealed = e.subarray(ENC_BYTES);
      const d = createDecipheriv('aes-256-gcm', key, nonce);
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      const pt = Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
      if (pt.length === KEY_BYTES) return new Uint8Array(pt);
    } catch {
      // Another recipient's envelope (or garbage, or a low-order point): not this one.
    }
  }
  throw noEnvelopeOpens(info);
}
