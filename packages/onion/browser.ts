// @cascade/onion/browser: the platform-free core and the browser's ways to reach relays (WebSocket to
// node relays, WebRTC to tab relays), and a relay in the tab itself.
export * from './index.ts';
export { dialRelayBrowser } from './src/browser/ws-link.ts';
export { browserDialer, dialTabRelay } from './src/browser/rtc-link.ts';
export { startTabRelay, type RunningTabRelay, type TabRelayOptions, type TabRelayStatus } from './src/browser/tab-relay.ts';
