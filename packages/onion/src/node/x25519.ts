// Node's native X25519 for the handshake (OpenSSL): a key pair's secret is kept as a KeyObject
// beside its raw bytes, so a shared secret costs one native call instead of ~0.5 ms of JavaScript.
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { useX25519, type X25519Impl } from '../protocol/ntor.ts';

const secrets = new WeakMap<Uint8Array, KeyObject>();
const b64u = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

export const nativeX25519: X25519Impl = {
  keygen() {
    const { privateKey } = generateKeyPairSync('x25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const secret = b64u(jwk.d!);
    secrets.set(secret, privateKey);
    return { secret, public: b64u(jwk.x!) };
  },
  shared(secret, pub) {
    const privateKey = secrets.get(secret);
    // A secret made elsewhere (the pure-JS keygen): computed in JavaScript.
    if (!privateKey) return x25519.getSharedSecret(secret, pub);
    if (pub.length !== 32) throw new Error('bad X25519 public key');
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(pub).toString('base64url') }, format: 'jwk' });
    return new Uint8Array(diffieHellman({ privateKey, publicKey }));
  },
};

useX25519(nativeX25519);
