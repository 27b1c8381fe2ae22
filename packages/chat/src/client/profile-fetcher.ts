// Users' signed profiles (name and key-agreement key) as the relay keeps them: fetched on first need,
// one request per user in flight however many callers wait, and kept only when the signature verifies.
import { type Profile, verifyProfile } from '../wire/identity.ts';

export interface ProfileHost {
  /** Where verified profiles are kept (the client's `profiles`, which the UI reads). */
  readonly profiles: Map<string, Profile>;
  connected(): boolean;
  request<T>(event: string, arg: unknown): Promise<T>;
  changed(): void;
}

export class ProfileFetcher {
  readonly #host: ProfileHost;
  readonly #inFlight = new Map<string, Promise<Profile | undefined>>();

  constructor(host: ProfileHost) {
    this.#host = host;
  }

  /** Fetch (and verify) a user's signed profile. */
  profile(did: string): Promise<Profile | undefined> {
    const known = this.#host.profiles.get(did);
    if (known) return Promise.resolve(known);
    let p = this.#inFlight.get(did);
    if (!p) {
      p = this.fetch([did]).then(() => this.#host.profiles.get(did)).finally(() => this.#inFlight.delete(did));
      this.#inFlight.set(did, p);
    }
    return p;
  }

  async fetch(dids: string[]): Promise<void> {
    const { profiles } = this.#host;
    const missing = [...new Set(dids)].filter((d) => !profiles.has(d));
    if (missing.length === 0 || !this.#host.connected()) return;
    const r = await this.#host.request<{ profiles: unknown[] }>('profile:get', { dids: missing });
    for (const p of r.profiles) {
      if (verifyProfile(p) && missing.includes(p.did)) profiles.set(p.did, p);
    }
    this.#host.changed();
  }
}
