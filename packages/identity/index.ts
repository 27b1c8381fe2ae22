// @cascade/identity: one user identity for chat, sign-in, the wire extension and the chain.
// An Ed25519 did:key, an X25519 key for key agreement and a secp256k1 Ethereum account, bound by
// signatures both ways; passphrase-encrypted export and import. Platform-free (browser and Node).
export * from './src/identity.ts';
export * from './src/binding.ts';
export * from './src/ethereum.ts';
export * from './src/encoding.ts';
export * from './src/hello.ts';
export * from './src/wire-extension.ts';
export * from './src/sign-in.ts';
