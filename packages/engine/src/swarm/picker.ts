// Which block to ask which peer for: random first pieces, then rarest-first, then endgame.
// Blocks of one piece go to one peer where possible, so a bad piece has one culprit.

import { Bitfield } from '../pieces/bitfield.ts';
import { lastingBytes } from '../encoding/lasting-bytes.ts';
import { BLOCK_SIZE, blockKey } from '../wire/protocol.ts';

const FREE = 0;
const REQUESTED = 1;
const RECEIVED = 2;
const RANDOM_FIRST = 4;
/** At most this many peers are asked for the same block in endgame. */
const ENDGAME_DUPLICATES = 2;
/** How many missing pieces ahead of a reader's position go before rarest-first (streaming). */
const READER_WINDOW = 16;

export interface ActivePiece {
  index: number;
  length: number;
  buffer: Uint8Array;
  blockState: Uint8Array;
  /** How many peers currently have each block outstanding (endgame can make it > 1). */
  requesters: Uint8Array;
  received: number;
  contributors: Set<string>;
  /** Who sent each block (BEP 52 pins a bad piece to its bad blocks, and so to their senders). */
  senders?: (string | undefined)[];
  /** Blocks [0, hashed) have been fed to `hash`. */
  hashed: number;
  hash?: { update(d: Uint8Array): void; digest(): Uint8Array };
}

export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

export interface PeerView {
  key: string;
  has(index: number): boolean;
  /** True when this peer already has the block outstanding (so endgame does not ask twice). */
  isRequested(index: number, begin: number): boolean;
  /** Takes only pieces of its own outside endgame (web seeds and mirrors: see WebSeed.wholePieces). */
  readonly wholePieces?: boolean;
  /** Pieces the peer suggested (BEP 6): a seed steering us to pieces no other peer has yet. */
  readonly suggested?: readonly number[];
}

/** What the picker needs of the platform's hasher (see platform.ts Hasher). */
export interface PieceHasher {
  incremental?(): { update(d: Uint8Array): void; digest(): Uint8Array };
  offThread?(data: Uint8Array): boolean;
}

export interface PieceBuffers {
  allocatePiece(n: number): Uint8Array;
  /** Copies a block into a piece buffer, where the platform has a faster way than `set` (shared memory). */
  copyIn?(piece: Uint8Array, block: Uint8Array, at: number): void;
}

const NEW_BUFFERS: PieceBuffers = { allocatePiece: (n) => new Uint8Array(n) };
/** `wanted` of every picker that wants nothing (a seed's), up to this many pieces: all zeros, read
 *  only. 10,000 seeds held a view each (~100 bytes) of a part of their buffer that said "none". */
const MAX_SHARED_ZEROS = 4096;
let zeros = new Uint8Array(64);
const noneWanted = (n: number): Uint8Array => (n <= zeros.length ? zeros : (zeros = new Uint8Array(MAX_SHARED_ZEROS)));
const NO_RANGES: readonly { first: number; last: number }[] = Object.freeze([]);
const NO_ACTIVE: ReadonlyMap<number, ActivePiece> = new Map();
const NO_VERIFYING: ReadonlySet<number> = new Set();

export class Picker {
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly totalLength: number;
  readonly have: Bitfield;
  readonly availability: Uint16Array;
  private wanted: Uint8Array;
  private wantedRemaining = 0;
  /** Pieces being fetched. Shared empty collections until the first piece is picked: a seed's picker
   *  (10,000 of them in a big library) holds no maps. Only the two writes below replace them. */
  active = NO_ACTIVE as Map<number, ActivePiece>;
  /** Complete pieces waiting for their hash check or disk write: not to be picked again. */
  private verifying = NO_VERIFYING as Set<number>;
  /** Ranges readers (a stream, a player) are waiting on: see setUrgent(). */
  private urgent: readonly { first: number; last: number }[] = NO_RANGES;
  // Objects the torrent and the session already have, not closures made per picker (10,000 seeds).
  private buffers: PieceBuffers;
  private hasher: PieceHasher | undefined;

  constructor(opts: {
    pieceCount: number; pieceLength: number; totalLength: number; have: Bitfield;
    /** Where a piece's buffer comes from (the torrent's pool); default: a new array each time. */
    buffers?: PieceBuffers;
    /** Hashes blocks as they arrive (SHA-1 pieces only); absent: pieces are hashed when whole. */
    hasher?: PieceHasher;
  }) {
    this.hasher = opts.hasher;
    this.pieceCount = opts.pieceCount;
    this.pieceLength = opts.pieceLength;
    this.totalLength = opts.totalLength;
    this.have = opts.have;
    // One buffer for both arrays: an ArrayBuffer has a native backing store of its own to pay for.
    // A small torrent's (21 pieces or fewer) is cut from a shared chunk (8-byte aligned): a library
    // of 10,000 small seeds held 10,000 ArrayBuffers for 3 bytes each. `wanted` is a view of its
    // part only while something is wanted (setWanted).
    const n = opts.pieceCount;
    const both = lastingBytes(2 * n + n);
    this.availability = new Uint16Array(both.buffer, both.byteOffset, n);
    this.wanted = n <= MAX_SHARED_ZEROS ? noneWanted(n) : new Uint8Array(both.buffer, both.byteOffset + 2 * n, n);
    this.buffers = opts.buffers ?? NEW_BUFFERS;
    this.setWanted(undefined);
  }

  pieceSize(index: number): number {
    return index === this.pieceCount - 1 ? this.totalLength - index * this.pieceLength : this.pieceLength;
  }

  /** `wanted` = pieces to fetch (from file selection); undefined = all. */
  setWanted(wanted: Uint8Array | undefined): void {
    const n = this.pieceCount;
    this.wantedRemaining = 0;
    for (let i = 0; i < n; i++) if ((wanted ? wanted[i]! : 1) && !this.have.get(i)) this.wantedRemaining++;
    // Nothing wanted (a seed): the shared zeros, which are never written (verified() clears only a 1).
    if (this.wantedRemaining === 0 && n <= MAX_SHARED_ZEROS) return void (this.wanted = noneWanted(n));
    if (this.wanted.buffer !== this.availability.buffer) this.wanted = new Uint8Array(this.availability.buffer, this.availability.byteOffset + 2 * n, n);
    for (let i = 0; i < n; i++) this.wanted[i] = (wanted ? wanted[i]! : 1) && !this.have.get(i) ? 1 : 0;
  }

  /** Pieces readers wait on (a stream from the node, a player in the page): the next
   *  READER_WINDOW missing pieces from each range's start are picked first, lowest index first,
   *  so bytes arrive in the order they are played; the rest stays rarest-first. */
  setUrgent(ranges: readonly { first: number; last: number }[]): void {
    this.urgent = ranges;
  }

  isWanted(index: number): boolean {
    return this.wanted[index] === 1;
  }

  get done(): boolean {
    return this.wantedRemaining === 0;
  }

  peerHasAll(delta: 1 | -1): void {
    for (let i = 0; i < this.pieceCount; i++) this.availability[i]! += delta;
  }

  peerBitfield(bits: Bitfield, delta: 1 | -1): void {
    for (let i = 0; i < this.pieceCount; i++) if (bits.get(i)) this.availability[i]! += delta;
  }

  peerHave(index: number): void {
    this.availability[index]!++;
  }

  /** Fills up to `max` requests for this peer. */
  pick(peer: PeerView, max: number): BlockRef[] {
    const out: BlockRef[] = [];
    if (max <= 0 || this.done) return out;
    // 1. Free blocks of pieces already under way (ours first, then anyone's).
    for (const p of this.active.values()) {
      if (p.contributors.has(peer.key) && peer.has(p.index)) this.takeFree(p, out, max);
      if (out.length >= max) return out;
    }
    // Pieces others started, but only where this peer has nothing rarer to give: a seed asked to
    // finish pieces half the swarm already holds is not sending the pieces only it has. The lab's
    // seeds sent 2.3 copies of the file (2.9 at N = 16) before every piece was out once (issue 60).
    let rarestNew: number | undefined;
    for (const p of this.active.values()) {
      // A whole-pieces source joins another's piece only once nobody is fetching any of it (its
      // peer left half-way): else a swarm that died would leave those pieces to no one.
      if (peer.wholePieces && p.blockState.includes(REQUESTED)) continue;
      if (p.contributors.has(peer.key) || !peer.has(p.index)) continue;
      if (this.availability[p.index]! > (rarestNew ??= this.rarestNewFrom(peer))) continue;
      this.takeFree(p, out, max);
      if (out.length >= max) return out;
    }
    // 2. New pieces.
    while (out.length < max) {
      const index = this.choosePiece(peer);
      if (index < 0) break;
      const p = this.activate(index);
      this.takeFree(p, out, max, peer.key);
    }
    // 3. Endgame: everything is requested; ask this peer too for blocks still in flight elsewhere.
    if (out.length < max && this.activeCoversRemaining()) {
      // Blocks picked above are not in the peer's request map yet: never ask for one twice.
      const picked = new Set(out.map((r) => blockKey(r.index, r.begin)));
      for (const p of this.active.values()) {
        if (!peer.has(p.index)) continue;
        for (let b = 0; b < p.blockState.length && out.length < max; b++) {
          if (p.blockState[b] !== REQUESTED || p.requesters[b]! >= ENDGAME_DUPLICATES) continue;
          const begin = b * BLOCK_SIZE;
          if (picked.has(blockKey(p.index, begin)) || peer.isRequested(p.index, begin)) continue;
          p.requesters[b]!++;
          out.push({ index: p.index, begin, length: Math.min(BLOCK_SIZE, p.length - begin) });
        }
      }
    }
    return out;
  }

  /** The least availability among the pieces this peer could start for us (Infinity: none). */
  private rarestNewFrom(peer: PeerView): number {
    let least = Infinity;
    for (let i = 0; i < this.pieceCount && least > 1; i++) {
      if (this.canStart(peer, i)) least = Math.min(least, this.availability[i]!);
    }
    return least;
  }

  /** A piece this peer could start for us: wanted, not under way or being verified, and it has it. */
  private canStart(peer: PeerView, i: number): boolean {
    return this.wanted[i] === 1 && !this.active.has(i) && !this.verifying.has(i) && peer.has(i);
  }

  private activeCoversRemaining(): boolean {
    return this.active.size + this.verifying.size >= this.wantedRemaining;
  }

  private takeFree(p: ActivePiece, out: BlockRef[], max: number, owner?: string): void {
    if (owner) p.contributors.add(owner);
    for (let b = 0; b < p.blockState.length && out.length < max; b++) {
      if (p.blockState[b] !== FREE) continue;
      p.blockState[b] = REQUESTED;
      p.requesters[b] = 1;
      const begin = b * BLOCK_SIZE;
      out.push({ index: p.index, begin, length: Math.min(BLOCK_SIZE, p.length - begin) });
    }
  }

  private choosePiece(peer: PeerView): number {
    for (const r of this.urgent) {
      let missing = 0;
      for (let i = Math.max(0, r.first); i <= Math.min(r.last, this.pieceCount - 1) && missing < READER_WINDOW; i++) {
        if (!this.wanted[i]) continue;
        missing++;
        if (!this.active.has(i) && !this.verifying.has(i) && peer.has(i)) return i;
      }
    }
    // A seed's suggestion, while no peer but it has that piece: the seed knows which of those it is
    // already sending elsewhere, we do not (swarm/seed-suggest.ts). Taken before the random first
    // pieces too: a piece nobody has is as good a first piece as any.
    const suggested = peer.suggested;
    if (suggested) {
      for (const i of suggested) if (this.availability[i]! <= 1 && this.canStart(peer, i)) return i;
    }
    const random = this.have.count < RANDOM_FIRST;
    let best = -1;
    let bestAvail = Infinity;
    // Start at a random offset so peers with equal views don't all chase the same piece; that
    // offset is also the tie-break among equally rare pieces, which keeps this one pass.
    const start = Math.floor(Math.random() * this.pieceCount);
    for (let n = 0; n < this.pieceCount; n++) {
      const i = (start + n) % this.pieceCount;
      if (!this.canStart(peer, i)) continue;
      if (random) return i;
      const a = this.availability[i]!;
      if (a < bestAvail) {
        best = i;
        bestAvail = a;
        if (a <= 1) break; // this peer has it, so nothing can be rarer
      }
    }
    return best;
  }

  private activate(index: number): ActivePiece {
    const length = this.pieceSize(index);
    const blocks = Math.ceil(length / BLOCK_SIZE);
    const buffer = this.buffers.allocatePiece(length);
    const p: ActivePiece = {
      index,
      length,
      buffer,
      blockState: new Uint8Array(blocks),
      requesters: new Uint8Array(blocks),
      received: 0,
      contributors: new Set(),
      hashed: 0,
      hash: this.incrementalFor(buffer),
    };
    if (this.active === NO_ACTIVE) this.active = new Map();
    this.active.set(index, p);
    return p;
  }

  /** Block-by-block hashing on this thread, unless the whole piece is hashed on another. */
  private incrementalFor(buffer: Uint8Array): ActivePiece['hash'] {
    const h = this.hasher;
    return h?.offThread?.(buffer) ? undefined : h?.incremental?.();
  }

  /** Stores a block; returns the piece when its last block arrived. Unexpected blocks return undefined. */
  received(index: number, begin: number, block: Uint8Array, peerKey: string): ActivePiece | 'duplicate' | undefined {
    const p = this.active.get(index);
    if (!p || begin % BLOCK_SIZE !== 0) return undefined;
    const b = begin / BLOCK_SIZE;
    if (b >= p.blockState.length || block.length !== Math.min(BLOCK_SIZE, p.length - begin)) return undefined;
    if (p.blockState[b] === RECEIVED) return 'duplicate';
    const copyIn = this.buffers.copyIn;
    if (copyIn) copyIn(p.buffer, block, begin);
    else p.buffer.set(block, begin);
    p.blockState[b] = RECEIVED;
    p.received++;
    p.contributors.add(peerKey);
    (p.senders ??= new Array<string | undefined>(p.blockState.length))[b] = peerKey;
    if (p.hash) {
      while (p.hashed < p.blockState.length && p.blockState[p.hashed] === RECEIVED) {
        const start = p.hashed * BLOCK_SIZE;
        p.hash.update(p.buffer.subarray(start, Math.min(p.length, start + BLOCK_SIZE)));
        p.hashed++;
      }
    }
    if (p.received < p.blockState.length) return undefined;
    this.active.delete(index);
    if (this.verifying === NO_VERIFYING) this.verifying = new Set();
    this.verifying.add(index);
    return p;
  }

  /** A request ended without data (choke, reject, disconnect, timeout). */
  released(index: number, begin: number): void {
    const p = this.active.get(index);
    if (!p) return;
    const b = begin / BLOCK_SIZE;
    if (p.blockState[b] !== REQUESTED) return;
    if (p.requesters[b]! > 0) p.requesters[b]!--;
    if (p.requesters[b] === 0) p.blockState[b] = FREE;
  }

  verified(index: number): void {
    this.verifying.delete(index);
    this.have.set(index);
    if (this.wanted[index]) {
      this.wanted[index] = 0;
      this.wantedRemaining--;
    }
  }

  /** A piece that failed because of these blocks alone (BEP 52 found them): it goes back to being
   *  fetched with its good blocks kept, and only the bad ones are asked for again. */
  retryBlocks(p: ActivePiece, bad: readonly number[]): void {
    this.verifying.delete(p.index);
    for (const b of bad) {
      p.blockState[b] = FREE;
      p.requesters[b] = 0;
      p.received--;
      if (p.senders) p.senders[b] = undefined;
    }
    p.contributors = new Set(p.senders?.filter((k): k is string => k !== undefined));
    // An incremental hash fed the bad bytes: start it over (blocks are fed again in order).
    if (p.hash) {
      p.hash = this.incrementalFor(p.buffer);
      p.hashed = 0;
    }
    if (this.active === NO_ACTIVE) this.active = new Map();
    this.active.set(p.index, p);
  }

  /** Hash failure: the piece starts over. */
  failed(index: number): void {
    this.active.delete(index);
    this.verifying.delete(index);
  }

  /** Frees piece buffers that nobody is filling any more (e.g. after pause). */
  clearActive(): void {
    this.active.clear();
    this.verifying.clear();
  }
}
