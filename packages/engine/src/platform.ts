// The seams between the platform-free core and the machine it runs on. Node adapters live in
// src/node/; a browser build supplies WebRTC connections, IndexedDB storage and WebCrypto hashing.

import type { Metainfo, PeerAddress } from './types.ts';

/** Most bytes a consumer may hand back to a redelivering transport (see Connection.onData). */
export const MAX_REDELIVER = 64 * 1024;

/** A reliable, ordered byte stream to one peer (TCP socket, WebRTC data channel, …). */
export interface Connection {
  readonly remote: string;
  readonly transport: 'tcp' | 'utp' | 'webrtc';
  /** WebRTC: true once the selected ICE candidate pair is known to pass through a TURN relay
   *  (either side's candidate is of type relay). Absent for TCP. */
  readonly relayed?: boolean;
  /** Returns false when the caller should wait for onDrain before writing more. */
  write(data: Uint8Array): boolean;
  /** Batch several writes into as few syscalls/packets as possible. */
  cork(): void;
  uncork(): void;
  /** Stop delivering data (backpressure) and resume. */
  pause(): void;
  resume(): void;
  close(): void;
  /**
   * `borrowed` chunks live only for the duration of the call (the transport reuses the buffer).
   * With `redeliver`, fn may return n (at most MAX_REDELIVER) instead of copying an unfinished
   * message: the chunk's last n bytes come back at the start of the next chunk.
   */
  onData(fn: (chunk: Uint8Array, borrowed: boolean, redeliver?: boolean) => number | void): void;
  onDrain(fn: () => void): void;
  onClose(fn: (err?: Error) => void): void;
  /** True when everything written so far has left our hands: no buffer passed to write() is
   *  still referenced, so the caller may reuse it. */
  drained(): boolean;
  /** Bytes written and still queued on our side (not yet handed to the network), where the
   *  transport knows: the uploader keeps this to about half a second of what the link drains
   *  (swarm/uploader.ts sendAllowance). */
  unsent?(): number;
}

export interface DialOptions {
  /** BEP 55: uTP only, kept trying longer, to a peer a broker just told to dial us at the same
   *  moment (simultaneous open through both NATs). A dialer without uTP rejects it. */
  holepunch?: boolean;
}

export interface Dialer {
  dial(addr: PeerAddress, signal: AbortSignal, opts?: DialOptions): Promise<Connection>;
}

export interface IncrementalHash {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

export interface Hasher {
  /** SHA-1 of each buffer; ownership of `data` may move to a worker and come back in the result. */
  sha1(data: Uint8Array): Promise<{ digest: Uint8Array; data: Uint8Array }>;
  /** SHA-256 of one buffer: BEP 52 leaf hashes (16 KiB blocks) and whole-file content hashes. */
  sha256(data: Uint8Array): Promise<Uint8Array>;
  /** Where the platform can hash in pieces, blocks are hashed as they arrive in order: no stall
   *  when the last block lands, and the bytes are still in the CPU cache from the copy. */
  incremental?(): IncrementalHash;
  /** True when sha1() of this buffer runs on another thread (memory a worker shares): the piece is
   *  then hashed whole once complete, and this thread only copies blocks in. */
  offThread?(data: Uint8Array): boolean;
  /** BEP 52 leaf hashes (SHA-256 of each 16 KiB block of data[0, dataLength)) in one go, where the
   *  platform can do it off this thread; absent or undefined: the caller hashes block by block. */
  blockLeaves?(data: Uint8Array, dataLength: number): Promise<Uint8Array> | undefined;
  close(): Promise<void>;
}

/** A file's size and modification time (ms, whole), as resume data records them. */
export interface FileStat {
  length: number;
  mtimeMs: number;
}

export interface Storage {
  /** Writes one verified piece. Resolves once the bytes are in the OS (page cache or disk). */
  writePiece(index: number, data: Uint8Array): Promise<void>;
  /** Reads a whole piece (into `into` when given, which must be the piece's length); rejects if
   *  the files are missing or short. */
  readPiece(index: number, into?: Uint8Array): Promise<Uint8Array>;
  /** For each file (or each of `files`, in that order): current size and mtime, or undefined when absent. */
  fileStats(files?: readonly number[]): Promise<(FileStat | undefined)[]>;
  close(): Promise<void>;
  /** Closes and deletes the torrent's files (and empty folders it made). */
  destroy(): Promise<void>;
  /** Closes for good: the torrent moved (a new storage has its new place) or is gone, and a write
   *  still on its way must not make its file again where it was (it rejects). */
  retire?(): Promise<void>;
}

export type StorageFactory = (meta: Metainfo, savePath: string) => Storage;
