// A seed steering its peers to pieces nobody has yet, with BEP 6's SUGGEST_PIECE ("the intended
// usage is for super-seeding without throughput reduction").
//
// Why: a downloader picks the rarest piece it can start, and to it every piece only the seed has
// is equally rare; it cannot see which of them the seed is already sending to another peer. In the
// swarm lab (issue 60, N = 8) that was most of the seed's waste: ~0.5 of the 1.5-1.7 copies a seed
// sent before every piece was out went to a second peer that asked for a piece another peer was
// still receiving (its HAVE not yet sent). The seed does know: it hands each unchoked peer a few
// pieces that no peer has and no other peer was given or is fetching from it, and a peer that
// honours suggestions (Cascade's picker, picker.ts) asks for those first. Unlike super-seeding the
// seed still shows everything and serves every request, so a peer that ignores suggestions, or a
// swarm of one, loses nothing.
import type { Bitfield } from '../pieces/bitfield.ts';
import { clock } from '../clock.ts';

/** What suggesting needs of a peer. */
export interface SuggestPeer {
  readonly bits: Bitfield | null | undefined;
  readonly fast: boolean;
  readonly amChoking: boolean;
  readonly closed: boolean;
  sendSuggest(index: number): void;
}

/** Suggestions a peer holds unrequested: enough for its next pipeline refill from the seed. */
const OPEN_PER_PEER = 3;
/** A suggestion the peer has not asked for is given to someone else after this. */
const OPEN_MS = 5_000;
/** A piece a peer is fetching from us is not suggested to others while it keeps asking. */
const FETCH_MS = 15_000;
/** After a scan found nothing to suggest (every piece is out), the next waits this long. */
const EXHAUSTED_MS = 1_000;

interface Claim {
  peer: SuggestPeer;
  at: number;
  requested: boolean;
}

export class SeedSuggester {
  /** Pieces given to or being fetched by one peer; the others are not steered to them. */
  private readonly claims = new Map<number, Claim>();
  private readonly open = new Map<SuggestPeer, number[]>();
  /** The picker's counts it was made for (a recheck makes a new picker, and a new suggester). */
  readonly availability: Uint16Array;
  private readonly random: () => number;
  private quietUntil = 0;

  /** `availability`: per piece, how many connected peers announced it (the picker's counts). */
  constructor(availability: Uint16Array, random: () => number = Math.random) {
    this.availability = availability;
    this.random = random;
  }

  /** Tops the peer's open suggestions up to OPEN_PER_PEER (a peer we serve: fast, unchoked). */
  topUp(peer: SuggestPeer): void {
    if (!peer.fast || peer.amChoking || peer.closed || !peer.bits) return;
    const now = clock.now();
    const list = (this.open.get(peer) ?? []).filter((i) => this.claims.get(i)?.peer === peer && this.fresh(i, peer.bits!));
    while (list.length < OPEN_PER_PEER && now >= this.quietUntil) {
      const i = this.choose(peer.bits, now);
      if (i < 0) {
        this.quietUntil = now + EXHAUSTED_MS;
        break;
      }
      this.claims.set(i, { peer, at: now, requested: false });
      list.push(i);
      peer.sendSuggest(i);
    }
    this.open.set(peer, list);
  }

  /** A block request from `peer`: the piece is its own now (whether suggested or not). */
  requested(peer: SuggestPeer, index: number): void {
    const now = clock.now();
    const claim = this.claims.get(index);
    if (claim && claim.peer !== peer && !this.expired(claim, now)) return;
    if (claim?.peer === peer && claim.requested) {
      claim.at = now;
      return;
    }
    this.claims.set(index, { peer, at: now, requested: true });
    const list = this.open.get(peer);
    const at = list?.indexOf(index) ?? -1;
    if (at >= 0) {
      list!.splice(at, 1);
      this.topUp(peer);
    }
  }

  /** `peer` announced `index`: it is out, so no longer anyone's; the peer may take more. */
  peerHas(peer: SuggestPeer, index: number): void {
    const claim = this.claims.get(index);
    if (claim) {
      this.claims.delete(index);
      const list = this.open.get(claim.peer);
      const at = list?.indexOf(index) ?? -1;
      if (at >= 0) list!.splice(at, 1);
    }
    this.topUp(peer);
  }

  /** Choked or gone: its unrequested suggestions go back (gone: its fetches too). */
  release(peer: SuggestPeer, gone: boolean): void {
    for (const [i, claim] of this.claims) if (claim.peer === peer && (gone || !claim.requested)) this.claims.delete(i);
    this.open.delete(peer);
    this.quietUntil = 0;
  }

  /** The pieces suggested to `peer` and not yet asked for (for tests and reports). */
  openFor(peer: SuggestPeer): readonly number[] {
    return this.open.get(peer) ?? [];
  }

  /** A piece no peer has and no one holds a live claim on, from a random start (-1: none). */
  private choose(has: Bitfield, now: number): number {
    const n = this.availability.length;
    const start = Math.floor(this.random() * n);
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (this.availability[i] !== 0 || has.get(i)) continue;
      const claim = this.claims.get(i);
      if (claim && !this.expired(claim, now)) continue;
      return i;
    }
    return -1;
  }

  private fresh(i: number, bits: Bitfield): boolean {
    return this.availability[i] === 0 && !bits.get(i);
  }

  private expired(claim: Claim, now: number): boolean {
    return claim.peer.closed || now - claim.at > (claim.requested ? FETCH_MS : OPEN_MS);
  }
}
