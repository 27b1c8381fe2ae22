// This package's curves and ciphers (the noble libraries), as getters: what `#curves` gives a
// platform without Node (the browser bundle), loaded with the package. In Node, `#curves` is
// curves-node.ts instead, which loads each the first time it is asked for (package.json "imports").
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';

export const curves = {
  ed25519: () => ed25519,
  x25519: () => x25519,
  secp256k1: () => secp256k1,
  xchacha20poly1305: () => xchacha20poly1305,
  scryptAsync: () => scryptAsync,
};
