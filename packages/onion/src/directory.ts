// The directory's side: keeps the newest good descriptor of each relay and serves them as one list
// signed with the directory's key. A Cascade tracker mounts it at /relays.
import type { Identity } from '@cascade/identity';
import { descriptorProblem, signRelayList, type RelayDescriptor, type RelayList } from './descriptor.ts';

export const MAX_RELAYS = 5000;
export const MAX_DESCRIPTOR_BYTES = 4096;

export class RelayDirectory {
  readonly identity: Identity;
  private readonly relays = new Map<string, RelayDescriptor>();

  constructor(identity: Identity) {
    this.identity = identity;
  }

  /** Takes a descriptor; returns why it was refused, or undefined when it was stored. */
  publish(d: unknown): string | undefined {
    const problem = descriptorProblem(d);
    if (problem) return problem;
    const desc = d as RelayDescriptor;
    const have = this.relays.get(desc.id);
    if (have && have.published >= desc.published) return have.published === desc.published ? undefined : 'older than the one held';
    this.sweep();
    if (!have && this.relays.size >= MAX_RELAYS) return 'directory full';
    this.relays.set(desc.id, desc);
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
    for (const [id, d] of this.relays) if (d.expires <= now) this.relays.delete(id);
  }
}
