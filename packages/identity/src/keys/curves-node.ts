// `#curves` in Node (package.json "imports"): the noble curves and ciphers, each loaded the first
// time it is asked for. Why: loading them costs a `cascade download` ~70 ms of CPU before its first
// dial (some 20 modules), and a node never uses them on its way there: its keys, signatures and
// checks come from OpenSSL and libsecp256k1 (node-identity.ts), the identity's other derivations
// are plain hashes. With 32 peers starting on 2 cores (issue 60's swarm lab) that is a second of the
// swarm's time. A module is required synchronously (Node loads an ES module through require), so the
// callers stay synchronous; the browser bundle takes curves.ts, loaded up front.
import { createRequire } from 'node:module';
import type * as Ed25519 from '@noble/curves/ed25519.js';
import type * as Secp256k1 from '@noble/curves/secp256k1.js';
import type * as Chacha from '@noble/ciphers/chacha.js';
import type * as Scrypt from '@noble/hashes/scrypt.js';

const require = createRequire(import.meta.url);
let ed: typeof Ed25519 | undefined;
let secp: typeof Secp256k1 | undefined;
let chacha: typeof Chacha | undefined;
let scrypt: typeof Scrypt | undefined;

export const curves = {
  ed25519: () => (ed ??= require('@noble/curves/ed25519.js') as typeof Ed25519).ed25519,
  x25519: () => (ed ??= require('@noble/curves/ed25519.js') as typeof Ed25519).x25519,
  secp256k1: () => (secp ??= require('@noble/curves/secp256k1.js') as typeof Secp256k1).secp256k1,
  xchacha20poly1305: () => (chacha ??= require('@noble/ciphers/chacha.js') as typeof Chacha).xchacha20poly1305,
  scryptAsync: () => (scrypt ??= require('@noble/hashes/scrypt.js') as typeof Scrypt).scryptAsync,
};
