// Local reputation: publishers this node caught lying (a record contradicting a torrent the node
// holds, a download by content id whose bytes did not match) are ignored from then on. Local only:
// nothing is gossiped, so no one can get an honest publisher ignored by others.

export interface Blame {
  publisher: string;
  reason: string;
  /** Unix ms. */
  at: number;
}

export class Reputation {
  private readonly blamed = new Map<string, Blame>();
  private readonly onBlame: ((b: Blame) => void) | undefined;

  /** known: blames kept from before (the node's state DB); onBlame: to keep new ones. */
  constructor(known: Blame[] = [], onBlame?: (b: Blame) => void) {
    for (const b of known) this.blamed.set(b.publisher, b);
    this.onBlame = onBlame;
  }

  blame(publisher: string, reason: string): void {
    if (this.blamed.has(publisher)) return;
    const b = { publisher, reason, at: Date.now() };
    this.blamed.set(publisher, b);
    this.onBlame?.(b);
  }

  /** A blame kept from before (read from the node's state after the start): not stored again. */
  remember(b: Blame): void {
    if (!this.blamed.has(b.publisher)) this.blamed.set(b.publisher, b);
  }

  ignores(publisher: string): boolean {
    return this.blamed.has(publisher);
  }

  list(): Blame[] {
    return [...this.blamed.values()];
  }
}
