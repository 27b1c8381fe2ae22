// How a cluster's members tell each other what they wrote (issue 42 step 4, docs/cluster.md "Every
// member serves everything"): once a write to a shared table commits (state/shared-writes.ts finds
// which), its member publishes the rows on a Redis channel, and every other member reads them again
// into its views (cluster-views.ts). A node without Redis has none (node.changes is undefined, and
// its Store's onCommit unset: its statements are not even looked at).
//
// The channel carries one JSON array per commit: [{"table":"torrents","key":"<infohash>","member":"<id>","origin":"<uuid>"}, …]
// (key null: rows of that table the statement did not name; table "*": read everything again).
// Redis pub/sub keeps nothing for a subscriber that is away, so the bus says when it is down and up
// again: while down, the views poll the Store instead, and once up they are read again in full once;
// what this member could not publish meanwhile is published when Redis is back.

import { randomUUID } from 'node:crypto';
import type { SharedWrite } from '@cascade/node/cluster-host';

export const CHANGES_CHANNEL = 'cascade:changes';
/** Writes kept to publish while Redis is away; past this, one "read everything" replaces them. */
const MAX_PENDING = 10_000;

export interface Change extends SharedWrite {
  /** The member that wrote it. */
  member: string;
  /** The process that published it (random per bus): a process ignores its own messages even if
   *  another runs with the same member id by mistake. */
  origin?: string;
}

export interface ChangeBus {
  /** Whether others hear what is published now (and this member hears them). */
  readonly connected: boolean;
  /** Tells the others what this member committed. Never waits, never throws. */
  publish(writes: readonly SharedWrite[]): void;
  /** Changes other members made. */
  onChanges(fn: (changes: Change[]) => void): void;
  /** The bus went down (false) or came back up (true). */
  onConnected(fn: (up: boolean) => void): void;
  close(): Promise<void>;
}

/** Whether a message off the channel is well formed (another version, or garbage, is dropped). */
function parseChanges(text: string): Change[] | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v)) return undefined;
    const ok = v.every((c: unknown) => {
      const o = c as Record<string, unknown>;
      return !!o && typeof o.table === 'string' && (o.key === null || typeof o.key === 'string') && typeof o.member === 'string';
    });
    return ok ? (v as Change[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bus over Redis (ioredis): one connection publishes, one subscribes; both reconnect by
 * themselves (every second at most), and the subscription is taken again on reconnect.
 */
export async function redisChangeBus(url: string, member: string, note: (text: string) => void): Promise<ChangeBus> {
  const { Redis } = await import('ioredis');
  const options = {
    // Commands fail at once while disconnected: the caller polls instead of waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(200 * times, 1000),
    lazyConnect: true,
  };
  const pub = new Redis(url, options);
  // The subscriber's SUBSCRIBE must wait for a connection: it keeps an offline queue.
  const sub = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
  const changeFns: ((changes: Change[]) => void)[] = [];
  const upFns: ((up: boolean) => void)[] = [];
  let pubUp = false;
  let subUp = false;
  let up = false;
  let closed = false;
  const pending = new Map<string, SharedWrite>();
  const origin = randomUUID();

  const flush = () => {
    if (pending.size === 0 || !pubUp) return;
    const writes = [...pending.values()];
    pending.clear();
    send(writes);
  };
  const send = (writes: readonly SharedWrite[]) => {
    const message = JSON.stringify(writes.map((w) => ({ table: w.table, key: w.key, member, origin })));
    pub.publish(CHANGES_CHANNEL, message).catch(() => {
      // Lost on the way: kept for when Redis is back (others poll meanwhile, or read all then).
      keep(writes);
    });
  };
  const keep = (writes: readonly SharedWrite[]) => {
    for (const w of writes) pending.set(`${w.table}\u0000${w.key ?? ''}`, w);
    if (pending.size > MAX_PENDING) {
      pending.clear();
      pending.set('*', { table: '*', key: null });
    }
  };
  const state = () => {
    if (closed) return; // a stopping node's connections closing are no outage
    const now = pubUp && subUp;
    if (now === up) return;
    up = now;
    if (up) flush();
    note(up ? 'cluster: change bus connected (Redis)' : 'cluster: change bus down (Redis unreachable): polling the state until it is back');
    for (const fn of upFns) fn(up);
  };
  // The bus is up while both connections are: each one's ready and close move its flag.
  const follow = (c: typeof pub, set: (up: boolean) => void) => {
    c.on('ready', () => (set(true), state()));
    c.on('close', () => (set(false), state()));
  };
  follow(pub, (up) => (pubUp = up));
  follow(sub, (up) => (subUp = up));
  // Connection errors are reported by 'close' and retried; ioredis would print them otherwise.
  pub.on('error', () => {});
  sub.on('error', () => {});
  sub.on('message', (channel: string, text: string) => {
    if (channel !== CHANGES_CHANNEL) return;
    const changes = parseChanges(text)?.filter((c) => c.origin !== origin);
    if (!changes || changes.length === 0) return;
    for (const fn of changeFns) fn(changes);
  });
  // Not awaited: a node starts (and polls) with Redis away, and connects when it comes.
  pub.connect().catch(() => {});
  sub.connect().catch(() => {});
  sub.subscribe(CHANGES_CHANNEL).catch(() => {});

  return {
    get connected() {
      return up && !closed;
    },
    publish(writes) {
      if (writes.length === 0 || closed) return;
      if (!pubUp) keep(writes);
      else send(writes);
    },
    onChanges(fn) {
      changeFns.push(fn);
    },
    onConnected(fn) {
      upFns.push(fn);
    },
    async close() {
      closed = true;
      pub.disconnect();
      sub.disconnect();
    },
  };
}
