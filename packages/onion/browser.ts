// @cascade/onion/browser: the platform-free core and the browser's way to reach relays (WebSocket).
export * from './index.ts';
export { dialRelayBrowser } from './src/browser/ws-link.ts';
