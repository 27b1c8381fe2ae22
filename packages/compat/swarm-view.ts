// @cascade/compat/swarm-view — the swarm as qBittorrent and Transmission show it: a peer's state
// letters and distributed copies, apart from the adapters so the web app can import it without
// Fastify (and the HTTP API's piece map uses the same count).
export { peerFlags, qbittorrentFlags, transmissionFlagStr, type PeerFlag, type PeerFlagDialect, type PeerFlagSource } from './src/shared-views/peer-flags.ts';
export { distributedCopies } from './src/shared-views/distributed-copies.ts';
