// Who we upload to. Leeching: tit-for-tat, the peers that give us the most get our slots.
// Seeding: the peers we can push the most to (they finish and spread the torrent fastest).
// Plus one optimistic slot, rotated, so newcomers get a chance to prove themselves.
// Above both: a peer's priority (set from outside, e.g. the Cascade fast lane for verified peers);
// a preferred peer gets a slot first, taking one from a less preferred peer if it must.

import type { Peer } from './peer.ts';

export const UPLOAD_SLOTS = 4;
const OPTIMISTIC_ROUNDS = 3;

export class Choker {
  private optimistic: Peer | undefined;
  private round = 0;

  rechoke(peers: Peer[], seeding: boolean): void {
    const candidates = peers.filter((p) => !p.closed && p.peerInterested);
    const rate = (p: Peer) => (seeding ? p.up.rate() : p.down.rate());
    candidates.sort((a, b) => b.priority - a.priority || rate(b) - rate(a));
    const regular = new Set(candidates.slice(0, UPLOAD_SLOTS));

    if (this.round++ % OPTIMISTIC_ROUNDS === 0 || !this.optimistic || this.optimistic.closed || !this.optimistic.peerInterested) {
      const choked = candidates.filter((p) => !regular.has(p));
      if (this.optimistic) this.optimistic.optimistic = false;
      this.optimistic = choked.length ? choked[Math.floor(Math.random() * choked.length)] : undefined;
    }
    if (this.optimistic) this.optimistic.optimistic = !regular.has(this.optimistic);
    for (const p of peers) {
      if (p.closed) continue;
      p.setChoking(!(regular.has(p) || p === this.optimistic));
    }
  }

  /** Unchoke at once while slots are free, instead of waiting for the next round. */
  tryUnchoke(peer: Peer, peers: Peer[]): boolean {
    const unchoked = peers.filter((p) => !p.closed && !p.amChoking && p.peerInterested);
    if (unchoked.length >= UPLOAD_SLOTS + 1) {
      // Full: a preferred peer takes the slot of the slowest less preferred one.
      const lower = unchoked.filter((p) => p.priority < peer.priority);
      if (lower.length === 0) return false;
      const victim = lower.reduce((a, b) => (b.priority < a.priority || (b.priority === a.priority && b.up.rate() < a.up.rate()) ? b : a));
      victim.setChoking(true);
      if (victim === this.optimistic) {
        victim.optimistic = false;
        this.optimistic = peer;
        peer.optimistic = true;
      }
    }
    peer.setChoking(false);
    return true;
  }
}
