// The slice of bittorrent-dht (untyped upstream) that src/node/dht.ts uses.
declare module 'bittorrent-dht' {
  import type { EventEmitter } from 'node:events';

  interface DHTOptions {
    bootstrap?: false | string[] | { host: string; port: number }[];
    host?: string | false;
    nodeId?: Uint8Array | string;
    timeBucketOutdated?: number;
    maxAge?: number;
    /** Handed on to k-rpc-socket: the dgram-like socket to use instead of a udp4 one. */
    socket?: EventEmitter;
  }

  interface DHTNode {
    host: string;
    port: number;
    id?: Uint8Array;
  }

  export default class DHT extends EventEmitter {
    constructor(opts?: DHTOptions);
    nodeId: Uint8Array;
    nodes: { count(): number; toArray(): DHTNode[] };
    listening: boolean;
    ready: boolean;
    destroyed: boolean;
    listen(port?: number, address?: string, onlistening?: () => void): void;
    address(): { address: string; family: string; port: number };
    lookup(infoHash: Uint8Array | string, cb?: (err: Error | null, n?: number) => void): () => void;
    announce(infoHash: Uint8Array | string, port: number, cb?: (err: Error | null) => void): void;
    addNode(node: DHTNode): void;
    destroy(cb?: () => void): void;
  }
}
