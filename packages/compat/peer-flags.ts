// @cascade/compat/peer-flags — a peer's state letters as qBittorrent and Transmission show them,
// apart from the adapters so the web app can import it without Fastify.
export { peerFlags, qbittorrentFlags, transmissionFlagStr, type PeerFlag, type PeerFlagDialect, type PeerFlagSource } from './src/shared-views/peer-flags.ts';
