// The directory's side: keeps the newest good descriptor of each relay and serves them as one list
// signed with the directory's key. A Cascade tracker mounts it at /relays.
import type { Identity } from '@cascade/identity';
import { descriptorProblem, signRelayList, type RelayDescriptor, type RelayList } from './descriptor.ts';

export const MAX_RELAYS = 5000;
export const MAX_DESCRIPTOR_BYTES = 4096;
/** Relay identities one source address may publish: a flood of made-up relays from one machine
 *  cannot fill the directory (or crowd out everyone else's). */
export const MAX_RELAYS_PER_SOURCE = 8;

export class RelayDirectory {
  readonly identity: Identity;
  private readonly relays = new Map<string, RelayDescriptor>();
  /** Who published each relay (source address), to cap identities per source. */
  private readonly sources = new Map<string, string>();

  constructor(identity: Identity) {
    this.identity = identity;
  }

  /** Takes a descriptor from `source` (the publisher's address); returns why it was refused, or
   *  undefined when it was stored. */
  publish(d: unknown, source = ''): string | undefined {
    const problem = descriptorProblem(d);
    if (problem) return problem;
    const desc = d as RelayDescriptor;
    const have = this.relays.get(desc.id);
    if (have && have.published >= desc.published) return have.published === desc.published ? undefined : 'older than the one held';
    this.sweep();
    if (!have && this.relays.size >= MAX_RELAYS) return 'directory full';
    if (!have && [...this.sources.values()].filter((s) => s === source).length >= MAX_RELAYS_PER_SOURCE) {
      return `${MAX_RELAYS_PER_SOURCE} relays from this address already`;
    }
    this.relays.set(desc.id, desc);
    if (!have) this.sources.set(desc.id, source);
    return undefined;
  }

  list(): RelayList {
    this.sweep();
    return signRelayList(this.identity, [...this.relays.values()]);
  }

  get size(): number {
    return this.relays.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, d] of this.relays) {
      if (d.expires > now) continue;
      this.relays.delete(id);
      this.sources.delete(id);
    }
  }
}
