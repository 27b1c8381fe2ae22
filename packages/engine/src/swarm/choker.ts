// Who we upload to (issue 60; bench/swarm-lab measured each rule). Every round (10 s):
// - How many: upload slots sized to the link. A fixed 4 left a swarm of 8 picking favourites among
//   7 peers, so the peers that started late or upload slowly were served last and the last finisher
//   trailed the first by 14 s (libtorrent's 8 slots serve all 7). The slot count follows the best
//   upload rate the torrent has reached: one slot per SLOT_RATE of it, between 4 and 16.
// - Whom, downloading: tit-for-tat on half the link's slots (at least 4), the peers that sent us the
//   most in the last round, except a peer that has left our requests unanswered for a minute (it
//   snubs us: anti-snubbing). The fastest givers finish first and then seed the rest.
// - Whom, seeding: round robin. A peer keeps its slot until it has had a quota (a few pieces, at
//   least two rounds), then the one that has waited longest gets it, the least complete first.
//   Before, a seed kept serving whoever it already pushed fastest to, and a peer that joined late
//   waited for optimistic slots while the others finished (the late-seed and spread figures).
// - Ties among downloading peers go the same round-robin way, so peers that gave us nothing yet
//   (they have nothing we lack) take turns instead of the same ones always winning.
// - Optimistic: max(1, slots / 5) slots, rotated every third round, to the interested peers that have
//   waited longest since we last unchoked them (newcomers first), so they can prove themselves.
// Above all: a peer's priority (set from outside, e.g. the Cascade fast lane for verified peers);
// a preferred peer gets a slot first, taking one from a less preferred peer if it must.

import type { Peer } from './peer.ts';
import { clock } from '../clock.ts';

export const MIN_UPLOAD_SLOTS = 4;
export const MAX_UPLOAD_SLOTS = 16;
/** Slots before the torrent has uploaded anything to measure its link by. */
const FIRST_SLOTS = 8;
/** One upload slot per this much of the torrent's best upload rate (B/s). */
const SLOT_RATE = 128 * 1024;
const OPTIMISTIC_ROUNDS = 3;
/** A peer that sends nothing for this long while it has our requests snubs us. */
export const SNUB_MS = 60_000;
/** Seeding round robin: a slot is held for this many pieces' worth of data, and at least this long. */
const QUOTA_PIECES = 4;
const QUOTA_MIN_MS = 20_000;

interface Tally {
  /** Byte totals of the peer's meters at the last round. */
  down: number;
  up: number;
  /** Bytes each way in the last round. */
  downRound: number;
  upRound: number;
  /** Since when it has had our requests without sending a byte (0: it has not). */
  silentSince: number;
}

export class Choker {
  private optimistic = new Set<Peer>();
  private round = 0;
  private tallies = new WeakMap<Peer, Tally>();
  /** Best upload rate (B/s) seen at a round, decaying slowly so a lull does not cut the slots. */
  private peakUp = 0;
  private slotCount = FIRST_SLOTS;

  /** Regular slots for this round (optimistic ones come on top). */
  get slots(): number {
    return this.slotCount;
  }

  private get optimisticSlots(): number {
    return Math.max(1, Math.floor(this.slotCount / 5));
  }

  /** Slots given by the round's order (optimistic ones come on top): downloading, half the link's. */
  private regularSlots(seeding: boolean): number {
    return seeding ? this.slotCount : Math.max(MIN_UPLOAD_SLOTS, Math.floor(this.slotCount / 2));
  }

  /** `pieceLength` sizes the seeding quota; `now` is the round's clock (ms). */
  rechoke(peers: Peer[], seeding: boolean, pieceLength = 256 * 1024, now = clock.now()): void {
    const round = this.round++;
    let upRate = 0;
    for (const p of peers) {
      if (p.closed) continue;
      const t = this.tallies.get(p) ?? { down: 0, up: 0, downRound: 0, upRound: 0, silentSince: 0 };
      t.downRound = p.down.total - t.down;
      t.upRound = p.up.total - t.up;
      t.down = p.down.total;
      t.up = p.up.total;
      if (t.downRound > 0 || p.requests.size === 0 || p.peerChoking) t.silentSince = 0;
      else if (t.silentSince === 0) t.silentSince = now;
      this.tallies.set(p, t);
      upRate += p.up.rate(now);
    }
    this.peakUp = Math.max(upRate, this.peakUp * 0.9);
    if (this.peakUp > 0) this.slotCount = Math.min(MAX_UPLOAD_SLOTS, Math.max(MIN_UPLOAD_SLOTS, Math.ceil(this.peakUp / SLOT_RATE)));

    const candidates = peers.filter((p) => !p.closed && p.peerInterested);
    const quota = QUOTA_PIECES * pieceLength;
    const tally = (p: Peer) => this.tallies.get(p)!;
    const snubbed = (p: Peer) => !seeding && tally(p).silentSince > 0 && now - tally(p).silentSince >= SNUB_MS;
    const quotaDone = (p: Peer) => !p.amChoking && p.up.total - p.upAtUnchoke >= quota && now - p.unchokedAt >= QUOTA_MIN_MS;
    const progress = (p: Peer) => (p.bits ? p.bits.count : 0);
    candidates.sort((a, b) =>
      b.priority - a.priority ||
      Number(snubbed(a)) - Number(snubbed(b)) ||
      (seeding ? 0 : tally(b).downRound - tally(a).downRound) ||
      Number(quotaDone(a)) - Number(quotaDone(b)) ||
      Number(a.amChoking) - Number(b.amChoking) ||
      (seeding ? progress(a) - progress(b) : 0) ||
      a.unchokedAt - b.unchokedAt);
    // Downloading, half the link's slots (at least MIN_UPLOAD_SLOTS) go by tit-for-tat: with every
    // slot open, a swarm of 8 was a full mesh of equal shares and all finished together, late (lab:
    // mean 52.8 s against 44.4 s); the peers that give most finish first, and then seed the rest.
    const regular = new Set(candidates.slice(0, this.regularSlots(seeding)).filter((p) => !snubbed(p) || p.priority > 0));

    for (const p of this.optimistic) if (p.closed || !p.peerInterested || regular.has(p)) this.optimistic.delete(p);
    if (round % OPTIMISTIC_ROUNDS === 0 || this.optimistic.size < this.optimisticSlots) {
      if (round % OPTIMISTIC_ROUNDS === 0) this.optimistic.clear();
      // Longest without a slot first; among never-unchoked newcomers, any.
      const waiting = candidates.filter((p) => !regular.has(p) && !this.optimistic.has(p))
        .sort((a, b) => a.unchokedAt - b.unchokedAt || Math.random() - 0.5);
      for (const p of waiting) {
        if (this.optimistic.size >= this.optimisticSlots) break;
        this.optimistic.add(p);
      }
    }
    for (const p of peers) {
      if (p.closed) continue;
      p.optimistic = this.optimistic.has(p);
      p.setChoking(!(regular.has(p) || p.optimistic));
    }
  }

  /** Unchoke at once while slots are free, instead of waiting for the next round. Free as the round
   *  counts them: downloading, half the link's slots (rechoke). Counted as all the link's, a
   *  downloader unchoked twice the peers between rounds, and the next round choked the extra again,
   *  dropping what they had asked of it. */
  tryUnchoke(peer: Peer, peers: Peer[], seeding: boolean): boolean {
    const unchoked = peers.filter((p) => !p.closed && !p.amChoking && p.peerInterested);
    if (unchoked.length >= this.regularSlots(seeding) + this.optimisticSlots) {
      // Full: a preferred peer takes the slot of the slowest less preferred one.
      const lower = unchoked.filter((p) => p.priority < peer.priority);
      if (lower.length === 0) return false;
      const victim = lower.reduce((a, b) => (b.priority < a.priority || (b.priority === a.priority && b.up.rate() < a.up.rate()) ? b : a));
      victim.setChoking(true);
      if (this.optimistic.delete(victim)) {
        victim.optimistic = false;
        this.optimistic.add(peer);
        peer.optimistic = true;
      }
    }
    peer.setChoking(false);
    return true;
  }
}
