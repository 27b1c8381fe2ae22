// @cascade/onion: private discovery over 3-hop onion circuits (docs/onion.md). Platform-free core:
// fixed-size cells, the ntor-style handshake, layered encryption, the relay's circuit switch, the
// client's circuits, descriptors and the directory. Node links and the relay process: ./node.
export * from './src/cells.ts';
export * from './src/ntor.ts';
export * from './src/layers.ts';
export * from './src/descriptor.ts';
export * from './src/link.ts';
export * from './src/relay.ts';
export * from './src/circuit.ts';
export * from './src/client.ts';
export * from './src/exit.ts';
export * from './src/directory.ts';
export * from './src/directory-client.ts';
export * from './src/discovery.ts';
export * from './src/exit-streams.ts';
export * from './src/circuit-websocket.ts';
export * from './src/signal.ts';
