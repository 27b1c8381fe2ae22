// Tab relays (docs/onion.md, "Tab relays"): a browser tab that relays for others cannot accept
// connections, so it is reached over a WebRTC data channel, and the offer and answer that set the
// channel up travel through a node relay's signalling endpoint (SIGNAL_PATH on its relay port).
// The tab holds a WebSocket there, registered under its did after signing the server's challenge;
// a client sends an offer addressed to that did, the node passes it on and passes the answer back.
//
// Both SDPs are sealed end to end to the tab's did (its X25519 key is the did:key's Montgomery
// form, so the dialling side needs nothing but the did): the signalling node carries opaque boxes
// of a few fixed sizes and never reads a candidate, an address or a fingerprint.
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { b64u, concat, fromB64u, fromUtf8, isDid, signObject, signingKeyFromDid, utf8, verifyObject, type Identity } from '@cascade/identity';

export const SIGNAL_PATH = '/onion/signal';
export const SIGNAL_DOMAIN = 'cascade-onion-signal/v1';
/** Sealed SDPs are padded to a multiple of this, so their sizes say little about what they hold. */
export const SEAL_BLOCK = 1024;
/** Largest SDP a box may carry (a data-channel-only SDP with candidates is 1–3 KB). */
export const MAX_SDP_BYTES = 15 * 1024;
/** Largest signalling message either side accepts. */
export const MAX_SIGNAL_MESSAGE = 32 * 1024;

/** Messages on the signalling WebSocket (JSON text). `id` pairs an answer (and `ready`) with its
 *  offer. `ready` is the client saying it applied the answer: only then does the tab add the
 *  client's candidates and start checks of its own (docs/onion.md, "Signalling"). */
export type SignalMessage =
  | { type: 'challenge'; nonce: string }
  | { type: 'register'; v: 1; id: string; nonce: string; sig: string }
  | { type: 'registered' }
  | { type: 'offer'; to: string; id: number; box: string }
  | { type: 'offer'; from: number; id: number; box: string }
  | { type: 'answer'; to: number; id: number; box: string }
  | { type: 'answer'; id: number; box: string }
  | { type: 'ready'; to: string; id: number }
  | { type: 'ready'; from: number; id: number }
  | { type: 'error'; id?: number; to?: number; error: string };

/** A tab relay's address in EXTEND cells and client paths: the node it signals through, and its did. */
export function tabRelayAddress(signal: string, did: string): string {
  return `webrtc:${signal}#${did}`;
}

export function parseTabRelayAddress(address: string): { signal: string; did: string } | undefined {
  if (!address.startsWith('webrtc:')) return undefined;
  const hash = address.lastIndexOf('#');
  if (hash < 0) return undefined;
  const signal = address.slice('webrtc:'.length, hash);
  const did = address.slice(hash + 1);
  return /^wss?:\/\/\S+$/.test(signal) && isDid(did) ? { signal, did } : undefined;
}

/** The tab's answer to a challenge: proof that it holds the did's key, bound to this connection. */
export function signRegistration(identity: Identity, nonce: string): Extract<SignalMessage, { type: 'register' }> {
  return signObject(identity, SIGNAL_DOMAIN, { type: 'register' as const, v: 1 as const, id: identity.did, nonce, sig: '' });
}

export function registrationValid(m: unknown, nonce: string): m is Extract<SignalMessage, { type: 'register' }> {
  const r = m as { type?: unknown; v?: unknown; id?: unknown; nonce?: unknown; sig?: unknown } | null;
  return !!r && r.type === 'register' && r.v === 1 && isDid(r.id) && r.nonce === nonce && verifyObject(r.id as string, SIGNAL_DOMAIN, r);
}

function pad(plain: Uint8Array): Uint8Array {
  // Length prefix, then zeros up to the block: the receiver cuts at the stated length.
  const size = Math.ceil((plain.length + 4) / SEAL_BLOCK) * SEAL_BLOCK;
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, plain.length);
  out.set(plain, 4);
  return out;
}

function unpad(padded: Uint8Array): Uint8Array {
  const len = new DataView(padded.buffer, padded.byteOffset, padded.byteLength).getUint32(0);
  if (len > padded.length - 4) throw new Error('bad padding');
  return padded.subarray(4, 4 + len);
}

function keys(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): { offer: Uint8Array; answer: Uint8Array } {
  const salt = concat(ephemeral, recipient);
  return {
    offer: hkdf(sha256, shared, salt, utf8(`${SIGNAL_DOMAIN} offer`), 32),
    answer: hkdf(sha256, shared, salt, utf8(`${SIGNAL_DOMAIN} answer`), 32),
  };
}

// Each key seals exactly one message, so a fixed nonce is safe.
const NONCE = new Uint8Array(12);

/** Seals an offer to the tab that holds `did`; keep `answerKey` to open its answer. */
export function sealOffer(did: string, sdp: string): { box: string; answerKey: Uint8Array } {
  const plain = utf8(sdp);
  if (plain.length > MAX_SDP_BYTES) throw new Error('offer too large');
  const recipient = ed25519.utils.toMontgomery(signingKeyFromDid(did));
  const eph = x25519.utils.randomSecretKey();
  const ephPub = x25519.getPublicKey(eph);
  const k = keys(x25519.getSharedSecret(eph, recipient), ephPub, recipient);
  const sealed = chacha20poly1305(k.offer, NONCE).encrypt(pad(plain));
  return { box: b64u(concat(ephPub, sealed)), answerKey: k.answer };
}

/** The tab's side: opens an offer sealed to its did; throws when it is not for this identity. */
export function openOffer(identity: Identity, box: string): { sdp: string; answerKey: Uint8Array } {
  const bytes = fromB64u(box);
  if (bytes.length < 32 + 16 || bytes.length > 32 + 16 + MAX_SDP_BYTES + SEAL_BLOCK) throw new Error('bad offer box');
  const ephPub = bytes.subarray(0, 32);
  const k = keys(x25519.getSharedSecret(identity.dhSecret, ephPub), ephPub, identity.dhPublic);
  const plain = unpad(chacha20poly1305(k.offer, NONCE).decrypt(bytes.subarray(32)));
  return { sdp: fromUtf8(plain), answerKey: k.answer };
}

export function sealAnswer(answerKey: Uint8Array, sdp: string): string {
  const plain = utf8(sdp);
  if (plain.length > MAX_SDP_BYTES) throw new Error('answer too large');
  return b64u(chacha20poly1305(answerKey, NONCE).encrypt(pad(plain)));
}

export function openAnswer(answerKey: Uint8Array, box: string): string {
  const bytes = fromB64u(box);
  if (bytes.length > 16 + MAX_SDP_BYTES + SEAL_BLOCK) throw new Error('bad answer box');
  return fromUtf8(unpad(chacha20poly1305(answerKey, NONCE).decrypt(bytes)));
}
