// Rate limits that hold against someone who mints identities: every budget is kept per identity,
// per connection and per remote address, and an action goes through only when all three allow it.
// Addresses get a larger budget than one user (a household or office shares one address).

export class Bucket {
  private tokens: number;
  private last = Date.now();
  private readonly burst: number;
  private readonly perSecond: number;
  constructor(burst: number, perSecond: number) {
    this.burst = burst;
    this.perSecond = perSecond;
    this.tokens = burst;
  }
  #refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
  has(cost: number, now = Date.now()): boolean {
    this.#refill(now);
    return this.tokens >= cost;
  }
  take(cost: number, now = Date.now()): boolean {
    if (!this.has(cost, now)) return false;
    this.tokens -= cost;
    return true;
  }
  /** Back to its full burst: nothing to remember about this key. */
  idle(now = Date.now()): boolean {
    this.#refill(now);
    return this.tokens >= this.burst;
  }
}

export interface Budget {
  burst: number;
  perSecond: number;
}

/** Who is acting: the signed-in identity (if any), the engine.io connection, the remote address. */
export interface Actor {
  did?: string;
  connection: string;
  address: string;
}

// Buckets for keys that have gone quiet are dropped once a map grows past this.
const PRUNE_AT = 10_000;

type Scope = 'did' | 'connection' | 'address';

export class Quota {
  readonly #maps: Record<Scope, Map<string, Bucket>> = { did: new Map(), connection: new Map(), address: new Map() };
  private readonly user: Budget;
  private readonly address: Budget;
  constructor(user: Budget, address: Budget) {
    this.user = user;
    this.address = address;
  }

  #bucket(scope: Scope, key: string): Bucket {
    const map = this.#maps[scope];
    let b = map.get(key);
    if (!b) {
      if (map.size >= PRUNE_AT) for (const [k, v] of map) if (v.idle()) map.delete(k);
      const budget = scope === 'address' ? this.address : this.user;
      map.set(key, (b = new Bucket(budget.burst, budget.perSecond)));
    }
    return b;
  }

  /** Takes `cost` from the identity's, the connection's and the address's buckets, or from none. */
  take(actor: Actor, cost: number): boolean {
    const buckets = [this.#bucket('connection', actor.connection), this.#bucket('address', actor.address)];
    if (actor.did) buckets.push(this.#bucket('did', actor.did));
    const now = Date.now();
    if (!buckets.every((b) => b.has(cost, now))) return false;
    for (const b of buckets) b.take(cost, now);
    return true;
  }

  forget(connection: string): void {
    this.#maps.connection.delete(connection);
  }
}

/**
 * Identities seen from each address within `windowMs`: an address may bring `max` distinct ones
 * (a shared household), a known one always comes back, a new one past the limit is refused.
 */
export class IdentitiesPerAddress {
  readonly #seen = new Map<string, Map<string, number>>();
  private readonly max: number;
  private readonly windowMs: number;
  constructor(max: number, windowMs: number) {
    this.max = max;
    this.windowMs = windowMs;
  }

  admit(address: string, did: string, now = Date.now()): boolean {
    let dids = this.#seen.get(address);
    if (!dids) {
      if (this.#seen.size >= PRUNE_AT) this.#prune(now);
      this.#seen.set(address, (dids = new Map()));
    }
    for (const [d, at] of dids) if (now - at > this.windowMs) dids.delete(d);
    if (!dids.has(did) && dids.size >= this.max) return false;
    dids.set(did, now);
    return true;
  }

  #prune(now: number): void {
    for (const [address, dids] of this.#seen) {
      for (const [d, at] of dids) if (now - at > this.windowMs) dids.delete(d);
      if (dids.size === 0) this.#seen.delete(address);
    }
  }
}
