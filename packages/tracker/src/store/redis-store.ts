// The shared store: several tracker processes behind one address keep their swarms, users and
// registered torrents in one Redis, so an announce to any of them is seen by all. Each announce
// is one Lua script (atomic, one round trip). WebSocket offers for a browser connected to
// another process travel over Redis pub/sub to that process.
//
// Keys, under a prefix (default `cascade:tracker:`); `{ih}` is a hash tag keeping a swarm's keys
// together:
//   {ih}:<kind>:s / :l   sorted sets of seed / leecher peer ids, scored by last announce (ms)
//   {ih}:<kind>:p        hash peer id → "host|port|owner|uploaded|downloaded"
//   {ih}:d               completed-download count
//   swarms               sorted set of infohashes by last announce (for totals)
//   user:<passkey>       hash name, uploaded, downloaded;  users: set of passkeys
//   torrents             set of registered infohashes
//   relay:<owner>        pub/sub channel of the process `owner`

import { Redis } from 'ioredis';
import type {
  AnnounceInput,
  AnnounceResult,
  PeerKind,
  PeerRecord,
  Refusal,
  RelayMessage,
  StoreTotals,
  SwarmCounts,
  TrackerStore,
  UserRecord,
} from './store.ts';

const ANNOUNCE_LUA = `
local s, l, p, d, swarms, ukey, os, ol = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local peer, now, cutoff, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local event, seed = ARGV[5], tonumber(ARGV[6]) == 0
local up, down, numwant = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])

-- Expired peers go a bounded batch per call; keys of swarms nobody announces to expire whole.
for _, z in ipairs({s, l}) do
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. cutoff, 'LIMIT', 0, 64)
  if #old > 0 then
    redis.call('ZREM', z, unpack(old))
    redis.call('HDEL', p, unpack(old))
  end
end

local prev = redis.call('HGET', p, peer)
local wasSeed = redis.call('ZSCORE', s, peer) ~= false

if ARGV[14] == '1' then
  local pu, pd = nil, nil
  if prev then
    local f, start = {}, 1
    while true do
      local i = string.find(prev, '|', start, true)
      if not i then
        f[#f + 1] = string.sub(prev, start)
        break
      end
      f[#f + 1] = string.sub(prev, start, i - 1)
      start = i + 1
    end
    pu, pd = tonumber(f[4]), tonumber(f[5])
  end
  local function delta(before, nowv)
    if before == nil then
      if event == 'started' then return nowv end
      return 0
    end
    if nowv >= before then return nowv - before end
    return nowv
  end
  local du, dd = delta(pu, up), delta(pd, down)
  if du > 0 then redis.call('HINCRBY', ukey, 'uploaded', string.format('%.0f', du)) end
  if dd > 0 then redis.call('HINCRBY', ukey, 'downloaded', string.format('%.0f', dd)) end
end

if event == 'stopped' then
  if prev then
    redis.call('ZREM', s, peer)
    redis.call('ZREM', l, peer)
    redis.call('HDEL', p, peer)
  end
else
  -- Count a completion once per peer, however many times a client repeats the event.
  if event == 'completed' and not wasSeed then
    redis.call('INCR', d)
    redis.call('PEXPIRE', d, 2592000000)
  end
  if seed then
    redis.call('ZADD', s, now, peer)
    redis.call('ZREM', l, peer)
  else
    redis.call('ZADD', l, now, peer)
    if wasSeed then redis.call('ZREM', s, peer) end
  end
  redis.call('HSET', p, peer, ARGV[7] .. '|' .. ARGV[8] .. '|' .. ARGV[9] .. '|' .. ARGV[10] .. '|' .. ARGV[11])
  redis.call('PEXPIRE', s, ttl)
  redis.call('PEXPIRE', l, ttl)
  redis.call('PEXPIRE', p, ttl)
  redis.call('ZADD', swarms, now, ARGV[13])
end

local complete = redis.call('ZCOUNT', s, cutoff, '+inf') + redis.call('ZCOUNT', os, cutoff, '+inf')
local incomplete = redis.call('ZCOUNT', l, cutoff, '+inf') + redis.call('ZCOUNT', ol, cutoff, '+inf')
-- A hybrid client (the same peer id over IP and WebSocket, as a Cascade node) is one peer: its
-- WebSocket entry is not counted again. Browser peers are few, so they are the ones walked.
local ipS, ipL, wsS, wsL = s, l, os, ol
if ARGV[15] == 'ws' then ipS, ipL, wsS, wsL = os, ol, s, l end
for _, z in ipairs({wsS, wsL}) do
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', z, cutoff, '+inf')) do
    local a, b = redis.call('ZSCORE', ipS, id), redis.call('ZSCORE', ipL, id)
    if (a and tonumber(a) >= cutoff) or (b and tonumber(b) >= cutoff) then
      if z == wsS then complete = complete - 1 else incomplete = incomplete - 1 end
    end
  end
end
local downloaded = tonumber(redis.call('GET', d) or '0')

local out = {}
if numwant > 0 then
  -- A random sample, seeds and leechers in proportion; a seed gets only leechers.
  -- One extra draw covers skipping ourselves.
  local want = numwant + 1
  local nl = redis.call('ZCARD', l)
  local ns = 0
  if not seed then ns = redis.call('ZCARD', s) end
  local fromS = 0
  if ns > 0 then fromS = math.min(ns, math.ceil(want * ns / (ns + nl))) end
  local fromL = math.min(nl, want - fromS)
  fromS = math.min(ns, want - fromL)
  local picks = {}
  for _, pair in ipairs({{l, fromL}, {s, fromS}}) do
    if pair[2] > 0 then
      local r = redis.call('ZRANDMEMBER', pair[1], pair[2], 'WITHSCORES')
      for i = 1, #r, 2 do
        if r[i] ~= peer and tonumber(r[i + 1]) >= cutoff and #picks < numwant then picks[#picks + 1] = r[i] end
      end
    end
  end
  if #picks > 0 then
    local infos = redis.call('HMGET', p, unpack(picks))
    for i = 1, #picks do
      if infos[i] then
        out[#out + 1] = picks[i]
        out[#out + 1] = infos[i]
      end
    end
  end
end
return {complete, incomplete, downloaded, out}
`;

interface AnnounceCommand {
  cascadeAnnounce(...args: (string | number)[]): Promise<[number, number, number, string[]]>;
}

export interface RedisStoreOptions {
  url: string;
  peerTtlMs: number;
  /** Key prefix, so several trackers (or tests) can share one Redis. */
  prefix?: string;
}

export class RedisStore implements TrackerStore {
  private readonly redis: Redis & AnnounceCommand;
  private sub: Redis | undefined;
  private readonly prefix: string;
  private readonly ttlMs: number;

  private constructor(redis: Redis, opts: RedisStoreOptions) {
    this.redis = redis as Redis & AnnounceCommand;
    this.prefix = opts.prefix ?? 'cascade:tracker:';
    this.ttlMs = opts.peerTtlMs;
    this.redis.defineCommand('cascadeAnnounce', { numberOfKeys: 8, lua: ANNOUNCE_LUA });
  }

  /** Connects first, so a wrong URL fails startup instead of every later announce. */
  static async connect(opts: RedisStoreOptions): Promise<RedisStore> {
    const redis = new Redis(opts.url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000 });
    // Reconnects are ioredis's business; an unhandled 'error' event must not kill the process. The
    // socket's own error (ECONNREFUSED…) comes only as that event: connect() rejects with "Connection
    // is closed.", so the event's error is the cause.
    let socketError: unknown;
    const firstError = (err: unknown) => void (socketError ??= err);
    redis.on('error', firstError);
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new Error(`cannot connect to redis at ${opts.url}: ${(err as Error).message}`, { cause: socketError ?? err });
    }
    redis.off('error', firstError).on('error', noop);
    return new RedisStore(redis, opts);
  }

  private swarmKey(ih: string, rest: string): string {
    return `${this.prefix}{${ih}}:${rest}`;
  }

  async announce(a: AnnounceInput): Promise<AnnounceResult> {
    const now = Date.now();
    const other: PeerKind = a.kind === 'ip' ? 'ws' : 'ip';
    const [complete, incomplete, downloaded, flat] = await this.redis.cascadeAnnounce(
      this.swarmKey(a.infoHashHex, `${a.kind}:s`),
      this.swarmKey(a.infoHashHex, `${a.kind}:l`),
      this.swarmKey(a.infoHashHex, `${a.kind}:p`),
      this.swarmKey(a.infoHashHex, 'd'),
      `${this.prefix}swarms`,
      a.passkey !== undefined ? `${this.prefix}user:${a.passkey}` : `${this.prefix}nouser`,
      this.swarmKey(a.infoHashHex, `${other}:s`),
      this.swarmKey(a.infoHashHex, `${other}:l`),
      a.peerIdHex,
      now,
      now - this.ttlMs,
      this.ttlMs,
      a.event ?? '',
      a.left,
      a.host,
      a.port,
      a.owner,
      a.uploaded,
      a.downloaded,
      a.numwant,
      a.infoHashHex,
      a.passkey !== undefined ? '1' : '0',
      a.kind,
    );
    const peers: PeerRecord[] = [];
    for (let i = 0; i < flat.length; i += 2) peers.push(parsePeer(flat[i]!, flat[i + 1]!));
    return { peers, counts: { complete, incomplete, downloaded } };
  }

  async counts(infoHashHex: string): Promise<SwarmCounts> {
    const cutoff = Date.now() - this.ttlMs;
    const k = (rest: string) => this.swarmKey(infoHashHex, rest);
    const r = await this.redis
      .pipeline()
      .zcount(k('ip:s'), cutoff, '+inf')
      .zcount(k('ws:s'), cutoff, '+inf')
      .zcount(k('ip:l'), cutoff, '+inf')
      .zcount(k('ws:l'), cutoff, '+inf')
      .get(k('d'))
      .exec();
    const v = unwrap(r);
    const both = Number(v[1]) + Number(v[3]) > 0 ? await this.alsoOverIp(k, cutoff) : { seeds: 0, leeches: 0 };
    return {
      complete: Number(v[0]) + Number(v[1]) - both.seeds,
      incomplete: Number(v[2]) + Number(v[3]) - both.leeches,
      downloaded: Number(v[4] ?? 0),
    };
  }

  /** Live WebSocket peers whose peer id is also a live IP peer: a hybrid client (a Cascade node,
   *  TCP and WebRTC) is one peer of the swarm (memory-store.ts, wsOnly). Browser peers are few. */
  private async alsoOverIp(k: (rest: string) => string, cutoff: number): Promise<{ seeds: number; leeches: number }> {
    const ids = unwrap(await this.redis.pipeline().zrangebyscore(k('ws:s'), cutoff, '+inf').zrangebyscore(k('ws:l'), cutoff, '+inf').exec()) as string[][];
    const all = [...ids[0]!, ...ids[1]!];
    const p = this.redis.pipeline();
    for (const id of all) p.zscore(k('ip:s'), id).zscore(k('ip:l'), id);
    const scores = unwrap(await p.exec());
    let seeds = 0;
    let leeches = 0;
    all.forEach((_, i) => {
      const live = Math.max(Number(scores[2 * i] ?? 0), Number(scores[2 * i + 1] ?? 0)) >= cutoff;
      if (live) i < ids[0]!.length ? seeds++ : leeches++;
    });
    return { seeds, leeches };
  }

  async findPeer(infoHashHex: string, peerIdHex: string, kind: PeerKind): Promise<PeerRecord | undefined> {
    const k = (rest: string) => this.swarmKey(infoHashHex, `${kind}:${rest}`);
    const v = unwrap(await this.redis.pipeline().zscore(k('s'), peerIdHex).zscore(k('l'), peerIdHex).hget(k('p'), peerIdHex).exec());
    const seen = Math.max(Number(v[0] ?? 0), Number(v[1] ?? 0));
    if (!v[2] || seen < Date.now() - this.ttlMs) return undefined;
    return parsePeer(peerIdHex, v[2] as string);
  }

  /** Walks the live swarms; /stats caches the answer, so this runs at most once a second. */
  async totals(): Promise<StoreTotals> {
    const cutoff = Date.now() - this.ttlMs;
    await this.redis.zremrangebyscore(`${this.prefix}swarms`, '-inf', `(${cutoff}`);
    const hashes = await this.redis.zrangebyscore(`${this.prefix}swarms`, cutoff, '+inf');
    let torrents = 0;
    let seeders = 0;
    let leechers = 0;
    for (let i = 0; i < hashes.length; i += 500) {
      const pipe = this.redis.pipeline();
      for (const ih of hashes.slice(i, i + 500)) {
        for (const key of ['ip:s', 'ws:s', 'ip:l', 'ws:l']) pipe.zcount(this.swarmKey(ih, key), cutoff, '+inf');
      }
      const v = unwrap(await pipe.exec()).map(Number);
      for (let j = 0; j < v.length; j += 4) {
        const s = v[j]! + v[j + 1]!;
        const l = v[j + 2]! + v[j + 3]!;
        if (s + l > 0) torrents++;
        seeders += s;
        leechers += l;
      }
    }
    return { torrents, peers: seeders + leechers, seeders, leechers };
  }

  // --- registry ---

  async addUser(user: { passkey: string; name: string }): Promise<void> {
    const key = `${this.prefix}user:${user.passkey}`;
    await this.redis
      .multi()
      .hsetnx(key, 'name', user.name)
      .hsetnx(key, 'uploaded', 0)
      .hsetnx(key, 'downloaded', 0)
      .sadd(`${this.prefix}users`, user.passkey)
      .exec();
  }

  async user(passkey: string): Promise<UserRecord | undefined> {
    const h = await this.redis.hgetall(`${this.prefix}user:${passkey}`);
    if (h.name === undefined) return undefined;
    return { passkey, name: h.name, uploaded: Number(h.uploaded ?? 0), downloaded: Number(h.downloaded ?? 0) };
  }

  async users(): Promise<UserRecord[]> {
    const keys = await this.redis.smembers(`${this.prefix}users`);
    const out: UserRecord[] = [];
    for (const k of keys) {
      const u = await this.user(k);
      if (u) out.push(u);
    }
    return out;
  }

  async addTorrent(infoHashHex: string): Promise<void> {
    await this.redis.sadd(`${this.prefix}torrents`, infoHashHex);
  }

  async torrentRegistered(infoHashHex: string): Promise<boolean> {
    return (await this.redis.sismember(`${this.prefix}torrents`, infoHashHex)) === 1;
  }

  async authorize(passkey: string, infoHashHex: string): Promise<Refusal> {
    const v = unwrap(
      await this.redis.pipeline().exists(`${this.prefix}user:${passkey}`).sismember(`${this.prefix}torrents`, infoHashHex).exec(),
    );
    if (v[0] !== 1) return 'unknown passkey';
    if (v[1] !== 1) return 'unregistered torrent';
    return undefined;
  }

  // --- relay over pub/sub ---

  async relay(owner: string, msg: RelayMessage): Promise<void> {
    await this.redis.publish(`${this.prefix}relay:${owner}`, JSON.stringify(msg));
  }

  async onRelay(owner: string, handler: (msg: RelayMessage) => void): Promise<void> {
    // A subscribed connection can do nothing else, hence a second one.
    this.sub ??= this.redis.duplicate();
    this.sub.on('error', noop);
    const channel = `${this.prefix}relay:${owner}`;
    this.sub.on('message', (ch: string, text: string) => {
      if (ch !== channel) return;
      try {
        handler(JSON.parse(text) as RelayMessage);
      } catch {
        // Only our processes publish here; a bad message is dropped.
      }
    });
    await this.sub.subscribe(channel);
  }

  async close(): Promise<void> {
    this.sub?.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function parsePeer(peerIdHex: string, info: string): PeerRecord {
  const [host = '', port = '0', owner = ''] = info.split('|');
  return { peerIdHex, host, port: Number(port), owner };
}

/** A pipeline's replies, throwing the first error. */
function unwrap(r: [Error | null, unknown][] | null): unknown[] {
  if (!r) throw new Error('redis pipeline aborted');
  return r.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

function noop(): void {}
