// Assembles one tracker process: a store (memory or Redis), the protocol-neutral core, and the
// HTTP (+ WebSocket upgrade, stats, metrics, admin, ICE servers) and UDP (+ STUN) front ends.

import { relayDirectoryRoute } from '../http/relays.ts';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { isIP, type AddressInfo } from 'node:net';
import type { AdminApi } from '../http/admin.ts';
import { TrackerCore } from './core.ts';
import { createHttpServer } from '../http/http.ts';
import { iceServersRoute } from '../ice/ice-servers.ts';
import { checkTurnUrl, type TurnOptions } from '../ice/turn-url.ts';
import { TrustedProxies } from './proxy.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { Metrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import type { RateLimitOptions } from './rate-limit.ts';
import { StatsSource } from '../http/stats.ts';
import type { StatsSnapshot } from '../http/stats.ts';
import type { SwarmCounts, TrackerStore, UserRecord } from '../store/store.ts';
import { createUdpServer } from '../udp/udp.ts';
import type { UdpIo } from '../udp/transport.ts';
import type { WsTracker } from '../ws/ws.ts';
import type { LocalWebSocket } from '../ws/local-ws.ts';
import type { LocalAnnounceReply as SharedLocalAnnounceReply, LocalAnnounceRequest } from '@cascade/shapes';

export interface TrackerOptions {
  /** Bind address for all servers. Default 0.0.0.0. */
  host?: string;
  /** The host its announce URLs name, when not the bind address's (a node's tracker bound to '::'
   *  keeps naming the address its web UI is at). Default: from the bind address. */
  urlHost?: string;
  /** 0 (default) picks a free port. */
  httpPort?: number;
  udpPort?: number;
  /** Seconds between announces we ask clients for. Default 1800. */
  interval?: number;
  /** The `min interval` we tell HTTP clients. Default half the interval. */
  minInterval?: number;
  /** Seconds after its last announce that a peer is dropped. Default 2 × interval + 60. */
  peerTtl?: number;
  /** Peers returned when the client names no number, and the most we ever return. Defaults 50 and 200. */
  defaultNumwant?: number;
  maxNumwant?: number;
  /** Serve the WebTorrent WebSocket protocol on the HTTP port. Default false. */
  ws?: boolean;
  /** Private mode: passkeys in announce URLs, registered torrents only. Default false. */
  private?: boolean;
  /** Bearer token for the /admin API (private mode). Default: random, see RunningTracker.adminToken. */
  adminToken?: string;
  /** Torrents to register at startup (private mode), as hex infohashes. */
  torrents?: string[];
  /** Share swarms with other tracker processes through this Redis (`redis://host:port/db`). */
  redis?: string;
  /** Key prefix in Redis. Default `cascade:tracker:`. */
  redisPrefix?: string;
  /** Per-IP limit over all protocols; false turns it off. Default 100/s with bursts of 500. */
  rateLimit?: RateLimitOptions | false;
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client of an HTTP
   *  or WebSocket announce (the peer's address and the rate limit's key). Default none. */
  trustProxy?: string[];
  /** The same, as an object its owner may change while the tracker runs (a node's setting); wins
   *  over trustProxy. */
  proxies?: TrustedProxies;
  /** Serve the onion relay directory at /relays (relays.ts). Default true. */
  relays?: boolean;
  /** Hand out TURN credentials for these servers at /ice-servers (ice-servers.ts). Default none. */
  turn?: TurnOptions;
  /** How UDP datagrams move (udp/transport.ts): 'mmsg' batches them (Linux, with the addon built by
   *  native/build.js), 'dgram' is node:dgram. Default 'auto': 'mmsg' where it loads. */
  udpIo?: UdpIo;
}

export interface UserStats extends UserRecord {
  /** uploaded / downloaded; null while nothing was downloaded. */
  ratio: number | null;
}

export interface RegisteredUser {
  passkey: string;
  name: string;
  announceUrls: { http: string; udp: string; ws?: string };
}

/** The tracker's answer to one: its counts always there. */
export type LocalAnnounceReply = Required<SharedLocalAnnounceReply>;

export interface RunningTracker {
  httpAnnounceUrl: string;
  udpAnnounceUrl: string;
  /** Present when started with `ws: true`. */
  wsAnnounceUrl?: string;
  statsUrl: string;
  metricsUrl: string;
  /** GET: this tracker's STUN service and, with `turn`, TURN credentials (ice-servers.ts). */
  iceServersUrl: string;
  /** The UDP port's STUN service, as an ICE server URL. */
  stunUrl: string;
  httpPort: number;
  udpPort: number;
  private: boolean;
  /** Private mode: the token the /admin API wants as `Authorization: Bearer <token>`. */
  adminToken?: string;
  close(): Promise<void>;
  /**
   * Announces a peer of this very process (a node's own torrents) straight into the core, as an
   * HTTP or UDP announce from the tracker's own address would: no socket, no parsing, not counted as
   * a request (stats: `localAnnounces`). Others find the peer exactly as if it had announced over
   * HTTP. Rejects with the failure reason (private mode: this path carries no passkey).
   */
  announceLocal(a: LocalAnnounceRequest): Promise<LocalAnnounceReply>;
  /**
   * With `ws: true`: a connection to the WebSocket tracker from this very process, with the part of
   * the WebSocket interface a tracker client uses (local-ws.ts). Its announces and the offers and
   * answers relayed to it are the same messages as over a socket, without the socket; it is not
   * rate limited. Undefined without `ws`.
   */
  connectLocalWebSocket: (() => LocalWebSocket) | undefined;
  /** Believe X-Forwarded-For on the one connection from this source address and port (a forwarder
   *  in this process, e.g. the node's web port); returns the undo. See TrustedProxies. */
  trustForwarder(address: string, port: number): () => void;
  /** Seeds and leechers now. In-memory store only (it answers synchronously); use counts() with Redis. */
  swarm(infoHashHex: string): { complete: number; incomplete: number };
  counts(infoHashHex: string): Promise<SwarmCounts>;
  stats(): Promise<StatsSnapshot>;
  /** Private mode: a new user (random passkey unless given) and the announce URLs that carry it. */
  registerUser(opts?: { name?: string; passkey?: string }): Promise<RegisteredUser>;
  registerTorrent(infoHashHex: string): Promise<void>;
  user(passkey: string): Promise<UserStats | undefined>;
}

const PASSKEY = /^[A-Za-z0-9_-]{1,64}$/;
const HEX40 = /^[0-9a-fA-F]{40}$/;

export async function startTracker(opts: TrackerOptions = {}): Promise<RunningTracker> {
  const host = opts.host ?? '0.0.0.0';
  const interval = opts.interval ?? 1800;
  // A peer that missed two announces (plus slack for slow clients) is gone.
  const peerTtlMs = (opts.peerTtl ?? interval * 2 + 60) * 1000;
  const isPrivate = opts.private ?? false;
  if (opts.turn) {
    if (opts.turn.urls.length === 0) throw new Error('turn: at least one TURN URL is needed');
    for (const u of opts.turn.urls) checkTurnUrl(u);
    if (!opts.turn.secret) throw new Error('turn: a TURN secret is needed');
    if (opts.turn.ttl !== undefined && !(Number.isInteger(opts.turn.ttl) && opts.turn.ttl > 0)) throw new Error('turn: the TTL must be a positive whole number of seconds');
  }
  const owner = randomBytes(8).toString('hex');

  const store: TrackerStore = opts.redis
    ? // Loaded only when asked for: ioredis and its parsing cost ~20 MB of a tracker that does not use them.
      await (await import('../store/redis-store.ts')).RedisStore.connect({ url: opts.redis, peerTtlMs, prefix: opts.redisPrefix })
    : new MemoryStore({ peerTtlMs });
  const metrics = new Metrics();
  const core = new TrackerCore({
    store,
    metrics,
    interval,
    minInterval: opts.minInterval ?? Math.max(1, Math.floor(interval / 2)),
    defaultNumwant: opts.defaultNumwant ?? 50,
    maxNumwant: opts.maxNumwant ?? 200,
    private: isPrivate,
  });
  const proxies = opts.proxies ?? new TrustedProxies(opts.trustProxy ?? []);
  const limiter = new RateLimiter(opts.rateLimit === false ? { perSecond: 0, burst: 1 } : (opts.rateLimit ?? { perSecond: 100, burst: 500 }));
  const stats = new StatsSource(core, opts.redis ? 'redis' : 'memory');
  const adminToken = isPrivate ? (opts.adminToken ?? randomBytes(18).toString('base64url')) : undefined;

  // URLs depend on the bound ports, known only after listen; the admin API needs them lazily.
  let urls: { http: string; udp: string; ws?: string } = { http: '', udp: '' };
  const withPasskey = (pk: string) => ({
    http: `${urls.http}/${pk}`,
    udp: `${urls.udp}/${pk}`,
    ...(urls.ws ? { ws: `${urls.ws}/${pk}` } : {}),
  });

  const registerUser = async (o: { name?: string; passkey?: string } = {}): Promise<RegisteredUser> => {
    const passkey = o.passkey ?? randomBytes(16).toString('hex');
    if (!PASSKEY.test(passkey)) throw new Error('passkey must be 1-64 characters of A-Z a-z 0-9 _ -');
    const name = o.name ?? passkey.slice(0, 8);
    await store.addUser({ passkey, name });
    return { passkey, name, announceUrls: withPasskey(passkey) };
  };
  const registerTorrent = async (ih: string) => {
    if (!HEX40.test(ih)) throw new Error('infohash must be 40 hex digits');
    await store.addTorrent(ih.toLowerCase());
  };
  const user = async (passkey: string): Promise<UserStats | undefined> => {
    const u = await store.user(passkey);
    return u && { ...u, ratio: u.downloaded > 0 ? u.uploaded / u.downloaded : null };
  };
  const admin: AdminApi | undefined = adminToken
    ? {
        token: adminToken,
        registerUser,
        registerTorrent,
        userStats: user,
        listUsers: async () => Promise.all((await store.users()).map((u) => user(u.passkey))),
      }
    : undefined;

  for (const ih of opts.torrents ?? []) await registerTorrent(ih);

  const relays = opts.relays === false ? undefined : relayDirectoryRoute();
  let udpPort = 0;
  const iceServers = iceServersRoute({
    core,
    limiter,
    host,
    udpPort: () => udpPort,
    fallbackHost: host === '::' ? '[::1]' : '127.0.0.1',
    ...(opts.turn ? { turn: opts.turn } : {}),
  });
  const httpServer = createHttpServer({ core, limiter, stats, admin, proxies, iceServers, ...(relays ? { relays } : {}) });
  const udp = createUdpServer({ core, limiter, io: opts.udpIo ?? 'auto' });
  let ws: WsTracker | undefined;
  try {
    if (opts.ws) ws = await (await import('../ws/ws.ts')).attachWebSocket(httpServer, { core, limiter, owner, proxies });
    // Listeners first: the UDP socket's immediate lookup means 'listening' can fire inside bind().
    const httpListening = once(httpServer, 'listening');
    httpServer.listen(opts.httpPort ?? 0, host);
    await httpListening;
    await udp.listen(opts.udpPort ?? 0, host);
  } catch (err) {
    httpServer.close();
    await udp.close();
    limiter.close();
    await store.close();
    throw err;
  }

  const httpPort = (httpServer.address() as AddressInfo).port;
  udpPort = udp.port;
  const named = opts.urlHost ?? host;
  const urlHost = named === '0.0.0.0' ? '127.0.0.1' : named === '::' ? '[::1]' : named.includes(':') ? `[${named}]` : named;
  urls = {
    http: `http://${urlHost}:${httpPort}/announce`,
    udp: `udp://${urlHost}:${udpPort}/announce`,
    ...(opts.ws ? { ws: `ws://${urlHost}:${httpPort}/announce` } : {}),
  };

  // What an HTTP or UDP announce from this process would come from: the address the tracker's
  // URLs name (127.0.0.1 for a wildcard bind).
  const bare = urlHost.startsWith('[') ? urlHost.slice(1, -1) : urlHost;
  const selfHost = isIP(bare) ? bare : '127.0.0.1';
  const announceLocal = async (a: LocalAnnounceRequest): Promise<LocalAnnounceReply> => {
    const out = await core.announce(
      {
        infoHashHex: a.infoHashHex.toLowerCase(),
        peerIdHex: a.peerIdHex.toLowerCase(),
        kind: 'ip',
        host: selfHost,
        port: a.port,
        owner: '',
        left: a.left,
        uploaded: a.uploaded,
        downloaded: a.downloaded,
        event: a.event,
        numwant: core.numwant(a.numwant),
      },
      'local',
    );
    if (!out.ok) throw new Error(out.reason);
    const peers: { host: string; port: number }[] = [];
    for (const p of out.peers) if (p.host && p.port > 0) peers.push({ host: p.host, port: p.port });
    return { interval: core.interval, complete: out.counts.complete, incomplete: out.counts.incomplete, peers };
  };

  let closed: Promise<void> | undefined;
  return {
    announceLocal,
    connectLocalWebSocket: ws ? ws.connectLocal : undefined,
    trustForwarder: (address, port) => proxies.trustForwarder(address, port),
    httpAnnounceUrl: urls.http,
    udpAnnounceUrl: urls.udp,
    wsAnnounceUrl: urls.ws,
    statsUrl: `http://${urlHost}:${httpPort}/stats`,
    metricsUrl: `http://${urlHost}:${httpPort}/metrics`,
    iceServersUrl: `http://${urlHost}:${httpPort}/ice-servers`,
    stunUrl: `stun:${urlHost}:${udpPort}`,
    httpPort,
    udpPort,
    private: isPrivate,
    adminToken,
    swarm: (infoHashHex) => {
      if (!(store instanceof MemoryStore)) throw new Error('swarm() needs the in-memory store; use counts()');
      const { complete, incomplete } = store.counts(infoHashHex.toLowerCase());
      return { complete, incomplete };
    },
    counts: async (infoHashHex) => store.counts(infoHashHex.toLowerCase()),
    stats: () => stats.snapshot(),
    registerUser,
    registerTorrent,
    user,
    close: () =>
      (closed ??= (async () => {
        await within(CLOSE_WAIT_MS, ws?.close());
        httpServer.closeAllConnections();
        // close() stops listening at once; its callback waits for every connection it counts to go,
        // and once (a node stopping beside a loaded machine's soak) one never went with nothing left
        // to wait on: the node's stop hung on it. Past a moment the tracker is closed all the same.
        await within(CLOSE_WAIT_MS, Promise.all([
          new Promise<void>((r) => httpServer.close(() => r())),
          udp.close(),
        ]));
        limiter.close();
        await store.close();
      })()),
  };
}

/** How long close() waits for its listeners' last connections before it is done without them. */
const CLOSE_WAIT_MS = 2000;

/** `p`, or nothing once `ms` have passed (its timer does not outlive it). */
async function within(ms: number, p: Promise<unknown> | undefined): Promise<void> {
  if (!p) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
