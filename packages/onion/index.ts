// @cascade/onion: private discovery over 3-hop onion circuits (docs/onion.md). Platform-free core:
// fixed-size cells, the ntor-style handshake, layered encryption, the relay's circuit switch, the
// client's circuits, descriptors and the directory. Node links and the relay process: ./node.
export * from './src/protocol/cells.ts';
export * from './src/protocol/ntor.ts';
export * from './src/protocol/layers.ts';
export * from './src/directory/descriptor.ts';
export * from './src/protocol/link.ts';
export * from './src/relay/relay.ts';
export * from './src/client/circuit.ts';
export * from './src/client/client.ts';
export * from './src/exit/exit.ts';
export * from './src/directory/directory.ts';
export * from './src/directory/directory-client.ts';
export * from './src/client/discovery.ts';
export * from './src/exit/exit-streams.ts';
export * from './src/client/circuit-websocket.ts';
export * from './src/relay/signal.ts';
