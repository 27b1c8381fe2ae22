// @cascade/identity: one user identity for chat, sign-in, the wire extension and the chain.
// An Ed25519 did:key, an X25519 key for key agreement and a secp256k1 Ethereum account, bound by
// signatures both ways; passphrase-encrypted export and import. Platform-free (browser and Node).
export * from './src/keys/identity.ts';
export * from './src/keys/binding.ts';
export * from './src/keys/ethereum.ts';
export * from './src/encoding/encoding.ts';
export * from './src/wire/hello.ts';
export * from './src/wire/wire-extension.ts';
export * from './src/keys/sign-in.ts';
