// Asks peers that speak v2 for BEP 52 hashes (piece layers of a torrent that came from a magnet;
// a failed piece's block hashes) and believes an answer only when it proves itself against a hash
// we trust. One peer is asked at a time per request; one that rejects, stalls or is gone makes way
// for the next, and one whose hashes do not prove out is disconnected and never asked again.

import { toHex } from '../encoding/hex.ts';
import { MSG, type HashRequest } from '../wire/protocol.ts';
import type { Peer } from './peer.ts';
import { clock } from '../clock.ts';

const ANSWER_TIMEOUT_MS = 10_000;

interface Wanted {
  req: HashRequest;
  verify: (hashes: Uint8Array) => boolean;
  resolve: (hashes: Uint8Array | undefined) => void;
  tried: WeakSet<Peer>;
  asked?: Peer;
  askedAt: number;
  /** Give up (resolve undefined) when no peer is left to ask; else wait for new peers. */
  giveUp: boolean;
  deadline: number;
}

export class HashFetcher {
  private readonly wanted = new Map<string, Wanted>();
  private readonly peers: () => Iterable<Peer>;
  private readonly onLiar: (peer: Peer) => void;

  constructor(peers: () => Iterable<Peer>, onLiar: (peer: Peer) => void) {
    this.peers = peers;
    this.onLiar = onLiar;
  }

  get pending(): number {
    return this.wanted.size;
  }

  /**
   * Resolves with the hashes that answer `req` and pass `verify` (base hashes, then uncles), or
   * undefined once no peer could give them within `ms` (when `giveUp`, as soon as no peer is left
   * to ask). Every connected peer that speaks v2 may be asked.
   */
  fetch(req: HashRequest, verify: (hashes: Uint8Array) => boolean, opts: { giveUp: boolean; ms?: number }): Promise<Uint8Array | undefined> {
    const key = keyOf(req);
    const known = this.wanted.get(key);
    if (known) return new Promise((resolve) => {
      const first = known.resolve;
      known.resolve = (h) => (first(h), resolve(h));
    });
    return new Promise((resolve) => {
      const w: Wanted = { req, verify, resolve, tried: new WeakSet(), askedAt: 0, giveUp: opts.giveUp, deadline: clock.now() + (opts.ms ?? Infinity) };
      this.wanted.set(key, w);
      if (opts.ms !== undefined) (setTimeout(() => this.wanted.get(key) === w && this.finish(key, undefined), opts.ms) as { unref?: () => void }).unref?.();
      this.ask(key, w);
    });
  }

  /** A peer that speaks v2 arrived, or time passed: requests without a peer asked try again. */
  tick(now = clock.now()): void {
    for (const [key, w] of this.wanted) {
      if (now > w.deadline) this.finish(key, undefined);
      else if (w.asked && (w.asked.closed || now - w.askedAt > ANSWER_TIMEOUT_MS)) this.next(key, w);
      else if (!w.asked) this.ask(key, w);
    }
  }

  onHashes(peer: Peer, req: HashRequest, hashes: Uint8Array): void {
    const key = keyOf(req);
    const w = this.wanted.get(key);
    if (!w || w.asked !== peer) return; // not asked of this peer: dropped, as unrequested blocks are
    if (w.verify(hashes)) return this.finish(key, new Uint8Array(hashes));
    this.onLiar(peer);
    this.next(key, w);
  }

  onReject(peer: Peer, req: HashRequest): void {
    const key = keyOf(req);
    const w = this.wanted.get(key);
    if (w && w.asked === peer) this.next(key, w);
  }

  /** Everything outstanding ends unanswered (the torrent stops). */
  clear(): void {
    for (const key of [...this.wanted.keys()]) this.finish(key, undefined);
  }

  private next(key: string, w: Wanted): void {
    if (w.asked) w.tried.add(w.asked);
    w.asked = undefined;
    this.ask(key, w);
  }

  private ask(key: string, w: Wanted): void {
    for (const p of this.peers()) {
      if (p.closed || !p.v2 || w.tried.has(p)) continue;
      w.asked = p;
      w.askedAt = clock.now();
      p.sendHashMessage(MSG.hashRequest, w.req);
      return;
    }
    if (w.giveUp) this.finish(key, undefined);
  }

  private finish(key: string, hashes: Uint8Array | undefined): void {
    const w = this.wanted.get(key);
    if (!w) return;
    this.wanted.delete(key);
    w.resolve(hashes);
  }
}

function keyOf(r: HashRequest): string {
  return `${toHex(r.piecesRoot)}/${r.baseLayer}/${r.index}/${r.length}/${r.proofLayers}`;
}
