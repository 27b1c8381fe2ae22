// @cascade/chat — platform-free chat protocol and end-to-end crypto (browser and Node).
// Node's server side is in ./server.ts, the React page in ./ui/ChatPage.tsx.
export * from './src/wire/identity.ts';
export * from './src/wire/envelope.ts';
export * from './src/wire/group.ts';
export * from './src/wire/rooms.ts';
export * from './src/wire/protocol.ts';
export * from './src/client/p2p.ts';
export * from './src/client/client.ts';
export { b64u, fromB64u, base58btc, fromBase58btc, canonicalJson } from '@cascade/identity';
