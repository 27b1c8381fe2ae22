// Nodes find relays through each other (issue 14): a Cascade peer that proved its identity is sent
// the relays this node knows (its own first, then the directory's), at most a few, in the Cascade
// extension's `relays` message; what arrives is checked descriptor by descriptor (signature,
// lifetime, form) and kept, a few per sender and a bounded number in all. A node whose directory
// lists relays takes its circuits' first hop from the directory only (OnionClient `guard`), so a
// peer that floods it with relays of its own cannot also become the hop that sees its address.
import { sendExtensionMessage } from '@cascade/identity';
import { descriptorProblem, type RelayDescriptor } from '@cascade/onion';
import type { IdentifiedPeers } from '@cascade/node/network-host';

const SEND_MAX = 8;
const PER_SENDER = 8;
const POOL_MAX = 256;

export class RelayGossip {
  readonly #learned = new Map<string, { d: RelayDescriptor; from: string }>();
  #own: (() => RelayDescriptor | undefined) | undefined;
  #known: () => RelayDescriptor[] = () => [];

  constructor(identified: IdentifiedPeers) {
    identified.onMessage((_peer, who, m) => {
      if (m.t === 'relays' && m.v === 1) this.#take(who.did, m.relays);
    });
    identified.onIdentified((_who, peer) => {
      const relays = this.shareable();
      if (relays.length > 0) sendExtensionMessage(peer, { t: 'relays', v: 1, relays: relays as unknown as Record<string, unknown>[] });
    });
  }

  /** This node's own relay (serve --relay), offered first. */
  setOwn(fn: () => RelayDescriptor | undefined): void {
    this.#own = fn;
  }

  /** The relays the directories gave this node (the last list fetched). */
  setKnown(fn: () => RelayDescriptor[]): void {
    this.#known = fn;
  }

  shareable(): RelayDescriptor[] {
    const out: RelayDescriptor[] = [];
    const own = this.#own?.();
    if (own) out.push(own);
    for (const d of this.#known()) if (out.length < SEND_MAX && !out.some((o) => o.id === d.id)) out.push(d);
    return out;
  }

  /** Good descriptors learned from peers, expired ones dropped. */
  relays(): RelayDescriptor[] {
    const now = Date.now();
    for (const [id, e] of this.#learned) if (e.d.expires <= now) this.#learned.delete(id);
    return [...this.#learned.values()].map((e) => e.d);
  }

  #take(from: string, list: unknown): void {
    if (!Array.isArray(list)) return;
    let taken = 0;
    for (const d of list.slice(0, SEND_MAX)) {
      if (descriptorProblem(d) !== undefined) continue;
      const desc = d as RelayDescriptor;
      const have = this.#learned.get(desc.id);
      if (have && have.d.published >= desc.published) continue;
      if (!have && [...this.#learned.values()].filter((e) => e.from === from).length >= PER_SENDER) break;
      if (!have && this.#learned.size >= POOL_MAX) break;
      this.#learned.set(desc.id, { d: desc, from });
      if (++taken >= PER_SENDER) break;
    }
  }
}
