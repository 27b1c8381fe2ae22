// What a uTP connection (connection.ts) is given by its owner, and what it keeps per packet sent.

export interface UtpEnv {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Microseconds, wrapping at 2^32 (the header's clock). */
  micros(): number;
  /** Puts one datagram on the wire to this connection's peer. */
  send(packet: Uint8Array): void;
}

export interface UtpOptions {
  /** Largest payload per DATA packet. */
  mss?: number;
  /** Bytes of received data we hold for the reader before advertising a zero window. */
  recvBuffer?: number;
  /** SYNs sent before the connect fails (the first one included). */
  synAttempts?: number;
}

export type UtpState = 'syn-sent' | 'connected' | 'closed';

/** A packet in flight, until ack_nr passes it. */
export interface Sent {
  seq: number;
  packet: Uint8Array;
  /** Payload bytes (0 for SYN/FIN). */
  size: number;
  sentAt: number;
  transmissions: number;
  /** Acked by a selective ACK: kept until ack_nr passes it. */
  sacked: boolean;
  /** Counted lost at a timeout (out of the flight): flush() sends it again first. */
  lost: boolean;
}
