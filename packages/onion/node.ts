// @cascade/onion/node: TCP and WebSocket links, the relay listener and process, the Node exit, and
// Node's native X25519 for handshakes (installed on import).
import './src/node/x25519.ts';
export { socketLink, dialTcp } from './src/node/tcp-link.ts';
export { wsLink, dialWs, dialRelay } from './src/node/ws-link.ts';
export { listenLinks, WS_PATH } from './src/node/listener.ts';
export { startRelay, type RelayNodeOptions, type RunningRelay } from './src/node/relay-node.ts';
export { nodeExitExecutor, type NodeExitOptions } from './src/node/exit-executor.ts';
export { wsTrackerTunnels } from './src/node/ws-tunnel.ts';
export { signalServer, type SignalServer } from './src/node/signal-server.ts';
