// @cascade/tracker: a BitTorrent tracker speaking HTTP, UDP and WebTorrent's WebSocket protocol,
// public or private, with its swarms in memory or shared through Redis.

export { startTracker } from './src/core/tracker.ts';
export { TrustedProxies } from './src/core/proxy.ts';
export type { TrackerOptions, RunningTracker, RegisteredUser, UserStats } from './src/core/tracker.ts';
export type { TurnOptions } from './src/ice/turn-url.ts';
export type { UdpIo } from './src/udp/transport.ts';
export type { LocalWebSocket } from './src/ws/local-ws.ts';
export { runTrackerCli, parseTrackerArgs, CliUsageError, TRACKER_OPTIONS } from './src/cli.ts';
export type { StatsSnapshot } from './src/http/stats.ts';
export type {
  TrackerStore,
  SwarmStore,
  Registry,
  PeerRelay,
  SwarmCounts,
  PeerRecord,
  AnnounceInput,
  AnnounceResult,
  UserRecord,
} from './src/store/store.ts';
export { MemoryStore } from './src/store/memory-store.ts';
// RedisStore is not re-exported: it loads ioredis, which only a tracker given --redis needs
// (createTracker imports it then); import it from './src/store/redis-store.ts'.
export type { RedisStore } from './src/store/redis-store.ts';
