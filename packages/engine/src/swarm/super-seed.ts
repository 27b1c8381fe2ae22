// Super-seeding (BEP 16): a seed that hides what it has and shows each peer a piece or two at a
// time, choosing the pieces fewest peers hold. A peer can then only ask the seed for those, so
// the seed's upload goes to pieces the swarm does not have yet, instead of the same rare pieces
// to several peers at once (the seed's "copies sent before every piece is out", issue 60: 1.6–1.7
// without it in the lab). Like libtorrent's default (not its strict mode), a peer is shown its next
// piece when it announces one it was shown, not only once that piece is seen at another peer: the
// strict rule leaves the seed's upload idle whenever peers are slow to pass pieces on.
import type { Bitfield } from '../pieces/bitfield.ts';

/** What super-seeding needs of a peer. */
export interface SuperSeedPeer {
  readonly bits: Bitfield | null | undefined;
  sendHave(index: number): void;
}

/** Pieces shown to a peer at once: two, as libtorrent, so a peer finishing one has the next. */
const SHOWN_PER_PEER = 2;

export class SuperSeeder {
  private readonly shown = new Map<SuperSeedPeer, number[]>();
  /** How often each piece was shown to any peer: among equally rare pieces, the least shown goes. */
  private readonly timesShown: Uint32Array;
  private readonly availability: Uint16Array;
  private readonly random: () => number;

  /** `availability`: per piece, how many connected peers announced it (the picker's counts). */
  constructor(availability: Uint16Array, random: () => number = Math.random) {
    this.availability = availability;
    this.random = random;
    this.timesShown = new Uint32Array(availability.length);
  }

  /** A peer met, or one whose bitfield arrived: drop shown pieces it has, top up to two. */
  refresh(peer: SuperSeedPeer): void {
    if (!peer.bits) return;
    const kept = (this.shown.get(peer) ?? []).filter((i) => !peer.bits!.get(i));
    this.shown.set(peer, kept);
    while (kept.length < SHOWN_PER_PEER) {
      const i = this.choose(peer, kept);
      if (i < 0) break;
      kept.push(i);
      this.timesShown[i]!++;
      peer.sendHave(i);
    }
  }

  /** `peer` announced piece `index`: a piece it was shown means it is ready for the next. */
  peerHas(peer: SuperSeedPeer, index: number): void {
    if (this.shown.get(peer)?.includes(index)) this.refresh(peer);
  }

  /** Requests for pieces a peer was not shown are refused: it cannot know we have them. */
  mayServe(peer: SuperSeedPeer, index: number): boolean {
    return this.shown.get(peer)?.includes(index) ?? false;
  }

  forget(peer: SuperSeedPeer): void {
    this.shown.delete(peer);
  }

  /** The pieces shown to `peer` now (for reports and tests). */
  shownTo(peer: SuperSeedPeer): readonly number[] {
    return this.shown.get(peer) ?? [];
  }

  /** The rarest piece the peer lacks, then the least shown; random among equals (-1: none). */
  private choose(peer: SuperSeedPeer, exclude: readonly number[]): number {
    let best = -1;
    let bestAvail = Infinity;
    let bestShown = Infinity;
    let ties = 0;
    for (let i = 0; i < this.availability.length; i++) {
      if (peer.bits!.get(i) || exclude.includes(i)) continue;
      const a = this.availability[i]!;
      const s = this.timesShown[i]!;
      if (a < bestAvail || (a === bestAvail && s < bestShown)) {
        best = i;
        bestAvail = a;
        bestShown = s;
        ties = 1;
      } else if (a === bestAvail && s === bestShown && this.random() * ++ties < 1) best = i;
    }
    return best;
  }
}

/** A torrent's switch: on or off, and the seeder while on and the torrent holds every piece (a
 *  new one for each picker: a recheck starts counting again). */
export class SuperSeedSwitch {
  on = false;
  private seeder: SuperSeeder | undefined;
  private forAvailability: Uint16Array | undefined;

  /** The seeder to consult now, or undefined: switched off, or not (yet) a seed. */
  active(picker: { readonly have: Bitfield; readonly availability: Uint16Array } | undefined): SuperSeeder | undefined {
    if (!this.on || !picker?.have.complete) return undefined;
    if (this.forAvailability !== picker.availability) {
      this.seeder = new SuperSeeder(picker.availability);
      this.forAvailability = picker.availability;
    }
    return this.seeder;
  }

  /** Returns whether it changed; switched off, the caller tells every peer everything. */
  set(on: boolean): boolean {
    if (on === this.on) return false;
    this.on = on;
    if (!on) this.seeder = this.forAvailability = undefined;
    return true;
  }

  forget(peer: SuperSeedPeer): void {
    this.seeder?.forget(peer);
  }
}

/** The switch of every torrent that never turned super-seeding on: off, and never set (a torrent
 *  makes a switch of its own the first time it turns it on). */
export const SUPER_SEED_OFF: SuperSeedSwitch = new SuperSeedSwitch();
