// The session's defaults that the node and the CLI read too: the client's name, the public DHT
// routers, and the connection limits SessionOptions may leave out.

export const CLIENT_NAME = 'Cascade 0.1.0';
export const PUBLIC_DHT_ROUTERS = ['router.bittorrent.com:6881', 'dht.transmissionbt.com:6881', 'router.utorrent.com:6881'];

/** Connection limits when SessionOptions leave them out (see SessionOptions for why these). */
export const CONNECTION_DEFAULTS = {
  maxConnections: 200,
  maxConnectionsPerTorrent: 50,
  maxConnectionsPerAddress: 8,
  maxOutgoingPerAddress: 8,
  handshakeTimeoutMs: 10_000,
} as const;
