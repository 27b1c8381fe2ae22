// @cascade/chat — platform-free chat protocol and end-to-end crypto (browser and Node).
// Node's server side is in ./server.ts, the React page in ./ui/ChatPage.tsx.
export * from './src/identity.ts';
export * from './src/envelope.ts';
export * from './src/group.ts';
export * from './src/rooms.ts';
export * from './src/protocol.ts';
export * from './src/p2p.ts';
export * from './src/client.ts';
export { b64u, fromB64u, base58btc, fromBase58btc, canonicalJson } from '@cascade/identity';
