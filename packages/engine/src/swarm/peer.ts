// One connected peer: wire state, what it has, what we asked of it, what it asked of us, and
// byte accounting. Range checks that need the torrent's shape happen here so Torrent sees only
// well-formed events; anything hostile closes the connection with a reason.

import { Bitfield } from '../pieces/bitfield.ts';
import type { Connection } from '../platform.ts';
import {
  encodeBitfield, encodeBlockRef, encodeExtended, encodeHandshake, encodeIndex, encodePieceHeader, encodePort, encodeSimple,
  blockKey, encodeHashMessage, KEEPALIVE, MSG, speaksV2, type Handshake, type HashRequest,
} from '../wire/protocol.ts';
import { ProtocolError, Wire, type WireHandler } from '../wire/wire.ts';
import { decodeExtHandshake, type ExtHandshake } from '../wire/extended.ts';
import { SpeedMeter } from './speed.ts';
import { copyBytes, toHex } from '../encoding/hex.ts';
import { clientFromPeerId } from '../wire/peer-id.ts';
import { clock } from '../clock.ts';
import type { PeerHost as Host } from './peer-host.ts';

/** What a peer needs from the torrent it belongs to (peer-host.ts). */
export type PeerHost = Host<Peer>;

/** Suggestions (BEP 6) kept per peer, newest last: a seed keeps a few open per peer. */
const MAX_SUGGESTED = 8;

/** How long a retiring connection may take to finish what was asked on it. */
const RETIRE_MAX_MS = 10_000;

export class Peer implements WireHandler {
  readonly conn: Connection;
  readonly address: string;
  readonly source: string;
  readonly outgoing: boolean;
  host: PeerHost | undefined;
  remoteId: Uint8Array | undefined;
  /** remoteId as hex, made once (every 'transfer' event of the peer carries it). */
  #remoteIdHex: string | undefined;
  get remoteIdHex(): string | undefined {
    if (this.#remoteIdHex === undefined && this.remoteId) this.#remoteIdHex = toHex(this.remoteId);
    return this.#remoteIdHex;
  }
  fast = false;
  extendedSupported = false;
  dhtSupported = false;
  /** BEP 52: both sides speak v2 for this torrent; hash requests may go both ways. */
  v2 = false;
  ext: ExtHandshake | undefined;

  amChoking = true;
  amInterested = false;
  /** It holds one of the choker's optimistic slots (swarm/choker.ts). */
  optimistic = false;
  /** When we last unchoked it (ms; 0: never), and our upload total then: the choker's round robin. */
  unchokedAt = 0;
  upAtUnchoke = 0;
  peerChoking = true;
  peerInterested = false;

  /** Null until metadata (piece count) is known; haves arriving earlier wait in `early`. */
  bits: Bitfield | null = null;
  seed = false;
  /** Pieces this peer suggested (BEP 6), newest last; the picker tries them first (picker.ts). */
  suggested: number[] | undefined;
  /** Set once a close for "both seeding" is scheduled (torrent/torrent-pieces.ts). */
  bothSeedingClose = false;
  private early: (number | 'all' | Uint8Array)[] = [];

  /** Our outstanding requests to this peer. */
  readonly requests = new Map<number, { index: number; begin: number; length: number; at: number }>();
  /** Upload requests from this peer, served in order. */
  readonly uploads: { index: number; begin: number; length: number }[] = [];
  /** How much the uploader lets queue unsent on this connection, and its last sample of the link
   *  (swarm/uploader.ts sendAllowance). */
  sendBudget = 0;
  sendSample: { at: number; dispatched: number; backlogged: boolean } | undefined;
  /** How many block requests to keep outstanding: the torrent starts it small and adapts it. */
  queueTarget = 32;
  /** Blocks received in the current pipeline window, and when that window began (ms). */
  windowBlocks = 0;
  windowStart = 0;
  remoteReqq = 250;

  readonly down = new SpeedMeter();
  readonly up = new SpeedMeter();
  strikes = 0;
  /** Upload preference set from outside (ExtensionPeer.setPriority); 0 for everyone else. */
  priority = 0;
  /** We told this peer what we have (a bitfield or have_all/have_none that reflected our pieces). */
  haveAnnounced = false;
  /** Last time either side wanted something of the other (ms): see Torrent's useless-peer check
   *  and swarm/admission.ts (the longest-useless peer gives its slot to a newcomer). */
  usefulAt = clock.now();
  /** The picker counts this peer's pieces in its availability. */
  availabilityTracked = false;
  lastMessageAt = clock.now();
  closed = false;
  /** Why this connection is being let go (retire()): no new requests go out on it. */
  retiring: string | undefined;
  private wire: Wire;
  private resolve: ((infoHash: Uint8Array) => PeerHost | undefined) | undefined;
  private closeListeners: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];

  constructor(conn: Connection, opts: { source: string; host?: PeerHost; resolve?: (infoHash: Uint8Array) => PeerHost | undefined }) {
    this.conn = conn;
    this.address = conn.remote;
    this.source = opts.source;
    this.host = opts.host;
    this.outgoing = !!opts.host;
    this.resolve = opts.resolve;
    this.wire = new Wire(this);
    conn.onData((chunk, borrowed, redeliver) => {
      this.lastMessageAt = clock.now();
      return this.wire.push(chunk, borrowed, redeliver);
    });
    conn.onClose((err) => this.destroy(err ? err.message : 'connection closed'));
    conn.onDrain(() => this.flushDrain());
    if (this.host) this.sendHandshake();
  }

  get key(): string {
    return this.address;
  }

  get client(): string | undefined {
    return this.ext?.client ?? (this.remoteId ? clientFromPeerId(this.remoteId) : undefined);
  }

  has(index: number): boolean {
    return this.seed || (this.bits?.get(index) ?? false);
  }

  isRequested(index: number, begin: number): boolean {
    return this.requests.has(blockKey(index, begin));
  }

  /** Calls `fn` once the socket's write buffer drains (or the peer closes). */
  waitDrain(fn: () => void): void {
    this.drainWaiters.push(fn);
  }

  private flushDrain(): void {
    for (const fn of this.drainWaiters.splice(0)) fn();
  }

  onceClosed(fn: () => void): void {
    this.closeListeners.push(fn);
  }

  /** Outgoing: the torrent's id. Incoming: the v2 id to a v2 peer (a hybrid's connection named by
   *  its v1 hash with the v2 bit set is upgraded, as libtorrent does), else the id it named. */
  private sendHandshake(): void {
    const h = this.host!;
    const id = this.v2 && h.infoHashV2Short ? h.infoHashV2Short : h.infoHash;
    this.conn.write(encodeHandshake(id, h.peerId, { extended: true, fast: true, dht: h.dhtPort() !== undefined, v2: !!h.infoHashV2Short }));
  }

  // ---- sending ----
  send(data: Uint8Array): boolean {
    if (this.closed) return false;
    return this.conn.write(data);
  }

  sendBitfield(have: Bitfield): void {
    if (this.fast && have.length > 0 && have.complete) this.send(encodeSimple(MSG.haveAll));
    else if (this.fast && have.count === 0) this.send(encodeSimple(MSG.haveNone));
    else if (have.count > 0) this.send(encodeBitfield(have.bytes));
  }

  /** Our pieces after the first message (a check that ended, metadata that arrived): BEP 3 allows
   *  a bitfield only right after the handshake, so each piece goes as a HAVE, all in one write. */
  sendHaves(have: Bitfield): void {
    if (have.count === 0) return;
    const out = new Uint8Array(9 * have.count);
    const view = new DataView(out.buffer);
    let off = 0;
    for (let i = 0; i < have.length; i++) {
      if (!have.get(i)) continue;
      view.setUint32(off, 5);
      out[off + 4] = MSG.have;
      view.setUint32(off + 5, i);
      off += 9;
    }
    this.send(out);
  }

  sendPort(port: number): void {
    this.send(encodePort(port));
  }

  sendHave(index: number): void {
    this.send(encodeIndex(MSG.have, index));
  }

  setChoking(choke: boolean): void {
    if (this.amChoking === choke) return;
    this.amChoking = choke;
    if (!choke) {
      this.host?.beforeUnchoke?.(this);
      this.unchokedAt = clock.now();
      this.upAtUnchoke = this.up.total;
    }
    this.send(encodeSimple(choke ? MSG.choke : MSG.unchoke));
    if (choke) {
      // BEP 6: a choke cancels queued requests; fast peers are told so explicitly.
      if (this.fast) for (const r of this.uploads) this.send(encodeBlockRef(MSG.reject, r.index, r.begin, r.length));
      this.uploads.length = 0;
    }
  }

  setInterested(interested: boolean): void {
    if (this.amInterested === interested) return;
    this.amInterested = interested;
    if (interested) this.usefulAt = clock.now();
    this.send(encodeSimple(interested ? MSG.interested : MSG.notInterested));
  }

  sendRequest(index: number, begin: number, length: number): void {
    this.requests.set(blockKey(index, begin), { index, begin, length, at: clock.now() });
    this.send(encodeBlockRef(MSG.request, index, begin, length));
  }

  /** Many requests in one write: a deep pipeline refill is one syscall, not hundreds. */
  sendRequests(blocks: { index: number; begin: number; length: number }[]): void {
    const out = new Uint8Array(17 * blocks.length);
    const view = new DataView(out.buffer);
    const now = clock.now();
    let off = 0;
    for (const b of blocks) {
      this.requests.set(blockKey(b.index, b.begin), { index: b.index, begin: b.begin, length: b.length, at: now });
      view.setUint32(off, 13);
      out[off + 4] = MSG.request;
      view.setUint32(off + 5, b.index);
      view.setUint32(off + 9, b.begin);
      view.setUint32(off + 13, b.length);
      off += 17;
    }
    this.send(out);
  }

  sendCancel(index: number, begin: number, length: number): void {
    if (this.requests.delete(blockKey(index, begin))) this.send(encodeBlockRef(MSG.cancel, index, begin, length));
  }

  sendSuggest(index: number): void {
    if (this.fast) this.send(encodeIndex(MSG.suggest, index));
  }

  sendReject(index: number, begin: number, length: number): void {
    if (this.fast) this.send(encodeBlockRef(MSG.reject, index, begin, length));
  }

  /** Header and block go out as two writes inside one cork: no copy of the block. */
  sendBlock(index: number, begin: number, block: Uint8Array): boolean {
    this.send(encodePieceHeader(index, begin, block.length));
    const ok = this.send(block);
    this.up.add(block.length);
    return ok;
  }

  sendHashMessage(id: number, req: HashRequest, hashes?: Uint8Array): void {
    if (this.v2) this.send(encodeHashMessage(id, req, hashes));
  }

  sendExtended(name: string, payload: Uint8Array): void {
    const id = name === 'handshake' ? 0 : this.ext?.m[name];
    if (id === undefined || id === 0 && name !== 'handshake') return;
    this.send(encodeExtended(id, payload));
  }

  keepAlive(): void {
    this.send(KEEPALIVE);
  }

  destroy(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.close();
    this.host?.onClose(this, reason);
    this.flushDrain();
    for (const fn of this.closeListeners) fn();
  }

  /**
   * Lets the connection go once the blocks already asked for have crossed, both ways: a duplicate
   * connection closed at once loses the blocks in flight on it, which the other end then sends
   * again on the survivor, and its upload counts them twice (issue 44). Both ends retire the same
   * connection, so neither asks for more on it; what one end asked before it knew is still served.
   */
  retire(reason: string): void {
    if (this.closed || this.retiring !== undefined) return;
    this.retiring = reason;
    const started = clock.now();
    const check = (): void => {
      if (this.closed) return clearInterval(timer);
      const done = this.requests.size === 0 && this.uploads.length === 0;
      if (done || clock.now() - started > RETIRE_MAX_MS) (clearInterval(timer), this.destroy(reason));
    };
    const timer = setInterval(check, 100);
    timer.unref?.();
    check();
  }

  private fail(reason: string): void {
    this.destroy(reason);
  }

  /** Called by the torrent once metadata is known, to apply haves that came before it. */
  applyPieceCount(count: number): void {
    if (this.bits) return;
    this.bits = new Bitfield(count);
    for (const e of this.early.splice(0)) {
      if (e === 'all') this.seed = true;
      else if (e instanceof Uint8Array) {
        if (e.length !== this.bits.bytes.length) return this.fail('bitfield has the wrong length');
        this.bits = new Bitfield(count, e);
      } else if (e < count) this.bits.set(e);
      else return this.fail(`have for piece ${e} of ${count}`);
    }
    if (this.bits.complete) this.seed = true;
  }

  // ---- WireHandler: validated events from the wire ----
  handshake(h: Handshake): void {
    const named = toHex(h.infoHash);
    if (!this.host) {
      this.host = this.resolve?.(h.infoHash);
      if (!this.host) return this.fail('handshake for a torrent we do not have');
      this.v2 = speaksV2(this.host.infoHashV2Short, named, h.flags.v2);
      this.sendHandshake();
    } else {
      // A hybrid torrent's peer may answer with either id (libtorrent answers a v2-capable dialler
      // with the truncated v2 hash).
      const v2Short = this.host.infoHashV2Short;
      if (named !== toHex(this.host.infoHash) && (!v2Short || named !== toHex(v2Short))) return this.fail('handshake infohash mismatch');
      this.v2 = speaksV2(this.host.infoHashV2Short, named, h.flags.v2);
    }
    if (toHex(h.peerId) === toHex(this.host.peerId)) return this.fail('connected to ourselves');
    this.remoteId = h.peerId;
    this.fast = h.flags.fast;
    this.dhtSupported = h.flags.dht;
    this.extendedSupported = h.flags.extended;
    const count = this.host.pieceCount();
    if (count !== undefined) this.bits = new Bitfield(count);
    this.host.onReady(this);
  }

  choke(): void {
    this.peerChoking = true;
    this.host?.onChoke(this, true);
  }

  unchoke(): void {
    this.peerChoking = false;
    this.host?.onChoke(this, false);
  }

  interested(): void {
    this.peerInterested = true;
    this.usefulAt = clock.now(); // at once, not at the next tick: a newcomer must not be evicted meanwhile
    this.host?.onInterested(this);
  }

  notInterested(): void {
    this.peerInterested = false;
    this.uploads.length = 0;
    this.host?.onInterested(this);
  }

  have(index: number): void {
    if (!this.bits) {
      if (this.early.length > 100_000) return this.fail('too many haves before metadata');
      this.early.push(index);
      return;
    }
    if (index >= this.bits.length) return this.fail(`have for piece ${index} of ${this.bits.length}`);
    if (this.bits.get(index)) return;
    this.bits.set(index);
    if (this.bits.complete) this.seed = true;
    this.host?.onHave(this, index);
  }

  bitfield(bytes: Uint8Array): void {
    if (!this.bits) {
      this.early.push(copyBytes(bytes));
      return;
    }
    if (bytes.length !== this.bits.bytes.length) return this.fail('bitfield has the wrong length');
    this.bits = new Bitfield(this.bits.length, bytes);
    if (this.bits.complete) this.seed = true;
    this.host?.onHave(this, this.bits);
  }

  haveAll(): void {
    if (!this.fast) return this.fail('have_all without the fast extension');
    if (!this.bits) {
      this.early.push('all');
      return;
    }
    this.seed = true;
    this.bits.setAll();
    this.host?.onHave(this, 'all');
  }

  haveNone(): void {
    if (!this.fast) return this.fail('have_none without the fast extension');
    // Interest goes out with our bitfield, before the peer's (Torrent.onReady): nothing to want here.
    if (this.amInterested) this.setInterested(false);
  }

  request(index: number, begin: number, length: number): void {
    if (!this.checkRange(index, begin, length)) return;
    // How many may queue is the uploader's (Uploads.request: past twice our reqq, refused).
    this.host!.onRequest(this, index, begin, length);
  }

  piece(index: number, begin: number, block: Uint8Array): void {
    const key = blockKey(index, begin);
    const req = this.requests.get(key);
    // Unrequested blocks are dropped but tolerated (late replies after a cancel are normal).
    if (!req) return;
    this.requests.delete(key);
    if (block.length !== req.length) return this.fail('block length does not match the request');
    this.down.add(block.length);
    this.host!.onBlock(this, index, begin, block);
  }

  cancel(index: number, begin: number, length: number): void {
    this.host?.onCancel(this, index, begin, length);
  }

  port(port: number): void {
    if (port > 0) this.host?.onDhtPort(this, port);
  }

  reject(index: number, begin: number): void {
    if (!this.fast) return this.fail('reject without the fast extension');
    if (this.requests.delete(blockKey(index, begin))) this.host?.onReject(this, index, begin);
  }

  allowedFast(): void {}

  suggest(index: number): void {
    if (!this.fast || !this.bits || index >= this.bits.length) return; // advisory: a bad one is ignored
    (this.suggested ??= []).push(index);
    if (this.suggested.length > MAX_SUGGESTED) this.suggested.shift();
  }

  extended(id: number, payload: Uint8Array): void {
    if (!this.extendedSupported) return this.fail('extended message without BEP 10 support');
    try {
      if (id === 0) {
        this.ext = decodeExtHandshake(payload);
        if (this.ext.reqq) this.remoteReqq = Math.max(1, Math.min(this.ext.reqq, 2000));
        this.host?.onExtHandshake(this);
        return;
      }
      const name = this.host?.localExtension(id);
      if (name) this.host?.onExtended(this, name, payload);
    } catch (err) {
      this.fail(`bad extension message: ${(err as Error).message}`);
    }
  }

  hashRequest(req: HashRequest): void {
    if (this.hashCheck()) this.host!.onHashRequest(this, req);
  }

  hashes(req: HashRequest, hashes: Uint8Array): void {
    if (this.hashCheck()) this.host!.onHashes(this, req, hashes);
  }

  hashReject(req: HashRequest): void {
    if (this.hashCheck()) this.host!.onHashReject(this, req);
  }

  private hashCheck(): boolean {
    if (this.v2) return true;
    this.fail('hash message on a connection that does not speak BitTorrent v2');
    return false;
  }

  error(err: ProtocolError): void {
    this.fail(`protocol error: ${err.message}`);
  }

  private checkRange(index: number, begin: number, length: number): boolean {
    const count = this.host?.pieceCount();
    if (count === undefined) {
      this.fail('request before metadata');
      return false;
    }
    if (index >= count) {
      this.fail(`request for piece ${index} of ${count}`);
      return false;
    }
    if (begin + length > this.host!.pieceSize(index)) {
      this.fail(`request past the end of piece ${index}`);
      return false;
    }
    return true;
  }
}
