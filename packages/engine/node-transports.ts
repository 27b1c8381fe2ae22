// @cascade/engine/node-transports: the Node session's discovery parts, for processes that discover
// for others without a session of their own (an onion relay's exit).
export { Dht } from './src/node/dht.ts';
export { UdpTracker } from './src/node/tracker-udp.ts';
export { createHttpTransport } from './src/discovery/tracker-http.ts';
export { PUBLIC_DHT_ROUTERS } from './src/node/session.ts';
export { boundFetch } from './src/node/bound-fetch.ts';
