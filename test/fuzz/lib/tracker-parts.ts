// A tracker assembled in-process the way startTracker does it, minus the listening sockets, so
// the fuzz targets can call the HTTP and UDP handlers directly (hundreds of thousands of inputs
// fit in minutes that way). The admin API mirrors the one startTracker builds.

import { TrackerCore } from '../../../packages/tracker/src/core/core.ts';
import { MemoryStore } from '../../../packages/tracker/src/store/memory-store.ts';
import { Metrics } from '../../../packages/tracker/src/core/metrics.ts';
import { RateLimiter } from '../../../packages/tracker/src/core/rate-limit.ts';
import { StatsSource } from '../../../packages/tracker/src/http/stats.ts';
import type { AdminApi } from '../../../packages/tracker/src/http/admin.ts';

export const ADMIN_TOKEN = 'fuzz-admin-token';
export const PASSKEYS = ['alice000', 'bob-1_x', 'k'.repeat(64)];
/** A few swarms everyone announces into, so replies carry peers; the rest are random hashes. */
export const HOT_HASHES = ['aa', '00', 'ff', '7f', '80'].map((b) => b.repeat(20));

export interface Parts {
  core: TrackerCore;
  store: MemoryStore;
  limiter: RateLimiter;
  stats: StatsSource;
  admin?: AdminApi;
}

export async function trackerParts(isPrivate: boolean): Promise<Parts> {
  const store = new MemoryStore({ peerTtlMs: 3_600_000 });
  const metrics = new Metrics();
  const core = new TrackerCore({ store, metrics, interval: 1800, minInterval: 900, defaultNumwant: 50, maxNumwant: 200, private: isPrivate });
  // Rate limiting would turn most of the run into "slow down" answers.
  const limiter = new RateLimiter({ perSecond: 0, burst: 1 });
  const stats = new StatsSource(core, 'memory');
  if (!isPrivate) return { core, store, limiter, stats };
  const user = async (passkey: string) => {
    const u = await store.user(passkey);
    return u && { ...u, ratio: u.downloaded > 0 ? u.uploaded / u.downloaded : null };
  };
  const admin: AdminApi = {
    token: ADMIN_TOKEN,
    registerUser: async (o) => {
      const passkey = o.passkey ?? 'generated';
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(passkey)) throw new Error('passkey must be 1-64 characters of A-Z a-z 0-9 _ -');
      const name = o.name ?? passkey.slice(0, 8);
      await store.addUser({ passkey, name });
      return { passkey, name, announceUrls: { http: `http://127.0.0.1/${passkey}/announce` } };
    },
    registerTorrent: async (ih) => {
      if (!/^[0-9a-fA-F]{40}$/.test(ih)) throw new Error('infohash must be 40 hex digits');
      await store.addTorrent(ih.toLowerCase());
    },
    userStats: user,
    listUsers: async () => Promise.all((await store.users()).map((u) => user(u.passkey))),
  };
  for (const pk of PASSKEYS) await store.addUser({ passkey: pk, name: pk.slice(0, 8) });
  for (const ih of HOT_HASHES.slice(0, 3)) await store.addTorrent(ih);
  return { core, store, limiter, stats, admin };
}
