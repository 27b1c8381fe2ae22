// The circuit handshake, after Tor's ntor (tor-spec §5.1.4) with X25519 and SHA-256: one message
// each way; the client learns it shares keys with the holder of the onion key the relay's signed
// descriptor names, and the relay learns nothing about who the client is.
//
//   client → relay: ID (32) | B (32) | X (32)
//   relay → client: Y (32) | AUTH (32)
//   secret_input = EXP(X,y) | EXP(X,b) | ID | B | X | Y | PROTOID
//   KEY_SEED = HMAC(t_key, secret_input), verify = HMAC(t_verify, secret_input)
//   AUTH = HMAC(t_mac, verify | ID | B | Y | X | PROTOID | "Server")
//   keys = HKDF-SHA256(KEY_SEED, info = PROTOID ":key_expand") → Kf | Kb | Af | Ab (4 × 32)
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, equalBytes, utf8 } from '@cascade/identity';

export const PROTOID = 'cascade-onion-ntor-x25519-sha256-1';
export const HANDSHAKE_TYPE = 1;
export const CREATE_SIZE = 96;
export const CREATED_SIZE = 64;

const T_KEY = utf8(`${PROTOID}:key_extract`);
const T_VERIFY = utf8(`${PROTOID}:verify`);
const T_MAC = utf8(`${PROTOID}:mac`);
const KEY_EXPAND = utf8(`${PROTOID}:key_expand`);
const PROTO = utf8(PROTOID);
const SERVER = utf8('Server');

export interface HopKeys {
  /** Forward (toward the exit) stream key, backward stream key, forward and backward AEAD keys. */
  kf: Uint8Array;
  kb: Uint8Array;
  af: Uint8Array;
  ab: Uint8Array;
}

/** X25519 as the handshake uses it: the pure-JS one by default; Node installs its native one
 *  (useX25519 in src/node/x25519.ts), ~15x faster per operation. */
export interface X25519Impl {
  keygen(): { secret: Uint8Array; public: Uint8Array };
  /** Throws on a bad public key. */
  shared(secret: Uint8Array, pub: Uint8Array): Uint8Array;
}

let dhImpl: X25519Impl = {
  keygen() {
    const secret = x25519.utils.randomSecretKey();
    return { secret, public: x25519.getPublicKey(secret) };
  },
  shared: (secret, pub) => x25519.getSharedSecret(secret, pub),
};

export function useX25519(impl: X25519Impl): void {
  dhImpl = impl;
}

export class HandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

/** The relay's identity as the handshake names it: SHA-256 of its Ed25519 public key. */
export function relayIdDigest(signPublic: Uint8Array): Uint8Array {
  return sha256(signPublic);
}

export interface ClientHandshake {
  /** The CREATE / EXTEND handshake bytes (ID | B | X). */
  message: Uint8Array;
  /** Checks the relay's reply and derives the hop's keys; throws HandshakeError on a wrong AUTH. */
  finish(reply: Uint8Array): HopKeys;
}

export function clientHandshake(id: Uint8Array, onionKey: Uint8Array): ClientHandshake {
  const { secret: x, public: X } = dhImpl.keygen();
  return {
    message: concat(id, onionKey, X),
    finish(reply) {
      if (reply.length < CREATED_SIZE) throw new HandshakeError('short handshake reply');
      const Y = reply.subarray(0, 32);
      const auth = reply.subarray(32, 64);
      const secret = concat(dh(x, Y), dh(x, onionKey), id, onionKey, X, Y, PROTO);
      const { keys, expectedAuth } = derive(secret, id, onionKey, X, Y);
      if (!equalBytes(auth, expectedAuth)) throw new HandshakeError('the relay did not prove it holds the onion key');
      return keys;
    },
  };
}

export interface OnionKeyPair {
  secret: Uint8Array;
  public: Uint8Array;
}

export function generateOnionKey(): OnionKeyPair {
  return dhImpl.keygen();
}

/**
 * The relay's side. `keys` are its current onion keys (the newest first; the previous one stays
 * valid for a while after rotation so that clients with an older descriptor still get through).
 */
export function serverHandshake(message: Uint8Array, id: Uint8Array, keys: readonly OnionKeyPair[]): { reply: Uint8Array; keys: HopKeys } {
  if (message.length < CREATE_SIZE) throw new HandshakeError('short handshake');
  const gotId = message.subarray(0, 32);
  const B = message.subarray(32, 64);
  const X = message.subarray(64, 96);
  if (!equalBytes(gotId, id)) throw new HandshakeError('handshake for another relay');
  const key = keys.find((k) => equalBytes(k.public, B));
  if (!key) throw new HandshakeError('handshake for an unknown or expired onion key');
  const { secret: y, public: Y } = dhImpl.keygen();
  const secret = concat(dh(y, X), dh(key.secret, X), id, B, X, Y, PROTO);
  const { keys: hop, expectedAuth } = derive(secret, id, B, X, Y);
  return { reply: concat(Y, expectedAuth), keys: hop };
}

function derive(secret: Uint8Array, id: Uint8Array, B: Uint8Array, X: Uint8Array, Y: Uint8Array): { keys: HopKeys; expectedAuth: Uint8Array } {
  const seed = hmac(sha256, T_KEY, secret);
  const verify = hmac(sha256, T_VERIFY, secret);
  const expectedAuth = hmac(sha256, T_MAC, concat(verify, id, B, Y, X, PROTO, SERVER));
  const okm = hkdf(sha256, seed, undefined, KEY_EXPAND, 128);
  return {
    keys: { kf: okm.slice(0, 32), kb: okm.slice(32, 64), af: okm.slice(64, 96), ab: okm.slice(96, 128) },
    expectedAuth,
  };
}

/** X25519 that refuses a low-order point (an all-zero shared secret would make the keys public). */
function dh(secret: Uint8Array, pub: Uint8Array): Uint8Array {
  let out: Uint8Array;
  try {
    out = dhImpl.shared(secret, pub);
  } catch {
    throw new HandshakeError('bad public key in handshake');
  }
  if (out.every((b) => b === 0)) throw new HandshakeError('degenerate key in handshake');
  return out;
}
