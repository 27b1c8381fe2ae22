// How the UDP front end (udp.ts) gets datagrams in and replies out. Two ways:
//   - 'mmsg' (transport-mmsg.ts): Linux, a small Node-API addon, datagrams moved in batches by
//     recvmmsg/sendmmsg; built by native/build.js (npm install runs it).
//   - 'dgram' (transport-dgram.ts): node:dgram, everywhere.
// 'auto' takes 'mmsg' where its addon loads, else 'dgram' (createTransport in udp.ts). Both deliver the same datagrams with the
// same addresses (on a dual-stack socket an IPv4 client reads '::ffff:a.b.c.d', family IPv6, as
// dgram has it), so the protocol code above cannot tell them apart.

export type UdpIo = 'auto' | 'mmsg' | 'dgram';

/** A datagram's sender, shaped as dgram's RemoteInfo (what udp.ts and stun.ts read). */
export interface UdpRemote {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
  size: number;
  /** The address as 16 bytes (IPv4 mapped) at `bytesOffset`, where the transport has them (valid during the call, as `from` is). */
  bytes?: Uint8Array;
  bytesOffset?: number;
}

/**
 * Called once per datagram. With `reusesBuffers`, `msg` views a buffer that the next batch
 * overwrites, and `from` is an object the next datagram of that slot rewrites: whoever keeps
 * either past the call copies it (udp.ts keepRemote).
 */
export type UdpHandler = (msg: Buffer, from: UdpRemote) => void;

export interface UdpTransport {
  readonly io: 'mmsg' | 'dgram';
  readonly reusesBuffers: boolean;
  /** Binds and starts reading; rejects as bind(2) would (EADDRINUSE …, err.code set). */
  listen(port: number, host: string): Promise<void>;
  /** The bound address and port (after listen). */
  address(): { address: string; port: number };
  /**
   * Queues the first `length` bytes of `buf` (copied now) for `to`. Replies go out together at
   * the end of the batch or event-loop turn: a client that sent many requests wakes once.
   */
  send(buf: Buffer, length: number, to: UdpRemote): void;
  /**
   * Batched transports: the next reply may be written in place, at the offset reserve() returns in
   * `replyRing` (room for 1,500 bytes), and queued with commit(): no copy. Nothing else may be sent
   * in between; a reservation never committed costs nothing.
   */
  readonly replyRing?: Buffer;
  reserve?(): number;
  commit?(length: number, to: UdpRemote): void;
  close(): Promise<void>;
}
