// The node's Prometheus series: one prom-client Registry of its own (not the library's global one,
// so two nodes in a process, or a test, never share series). Everything about the engine and the
// library is read when Prometheus scrapes (collect() callbacks over one snapshot taken per scrape):
// between scrapes the node does nothing for its metrics but count HTTP requests. The names below are
// a contract (packages/http/README.md lists them; deploy/grafana's dashboard queries them).
// This module (and prom-client with OpenTelemetry's API, ~90 modules) loads at the first scrape
// (routes/metrics.ts); the requests answered before it are counted in RequestCounts from the start.

import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionCounters } from '@cascade/engine';
import type { ClusterFigures } from '@cascade/node';
import type { RequestCounts } from './request-counts.ts';

/** Transports as the engine counts them (TCP peers, WebRTC peers, HTTP web seeds). */
export const TRANSPORTS = ['tcp', 'webrtc', 'webseed'] as const;
/** Every torrent state the node shows; each is reported, at 0 when no torrent is in it. */
export const TORRENT_STATES = ['metadata', 'checking', 'downloading', 'seeding', 'paused', 'queued', 'error'] as const;
export const DHT_QUERY_TYPES = ['ping', 'find_node', 'get_peers', 'announce_peer', 'get', 'put', 'other'] as const;

/** What one scrape reads from the node. */
export interface MetricsSnapshot {
  /** The engine's totals and gauges; undefined when the session keeps none (then 0s are reported). */
  counters: SessionCounters | undefined;
  /** Torrents by state, the library as the list shows it (stored torrents not loaded included). */
  torrentsByState: Map<string, number>;
  /** Torrents checking that wait their turn to hash their data (rows with checkWaiting). */
  checksWaiting?: number;
}

export interface MetricsSource {
  snapshot(): MetricsSnapshot;
  version: string;
  /** A cluster member's figures (issue 42): the cascade_cluster_* gauges exist only when given. */
  cluster?: (() => Promise<ClusterFigures | undefined>) | undefined;
  /** The HTTP requests answered since the node started, counted before this module loaded. */
  requests: RequestCounts;
  /** The process just after the memory reducer's latest collection (undefined before one). */
  afterCollection?: (() => { at: number; rssBytes: number } | undefined) | undefined;
}

const EMPTY: MetricsSnapshot = { counters: undefined, torrentsByState: new Map() };

export class NodeMetrics {
  readonly registry = new Registry();
  readonly #source: MetricsSource;
  /** The snapshot the collect() callbacks of the latest scrape read. */
  #current: MetricsSnapshot = EMPTY;
  #cluster: ClusterFigures | undefined;
  #defaultsOn = false;

  constructor(source: MetricsSource) {
    this.#source = source;
    const registers = [this.registry];
    const now = () => this.#current;

    // Set from the node's own tally at each scrape, series in the order they were first seen (as
    // the counter's own inc() per request made them).
    const requests = source.requests;
    new Counter({
      name: 'cascade_http_requests_total',
      help: 'HTTP requests answered, by route pattern (never the raw URL), method and status code.',
      labelNames: ['route', 'method', 'status'],
      registers,
      collect() {
        this.reset();
        for (const r of requests.series()) this.inc({ route: r.route, method: r.method, status: r.status }, r.count);
      },
    });

    // The floor RSS comes back to: read right after the memory reducer's compacting collection, so
    // one reading is comparable with the next (a sample at any other moment also counts garbage and
    // pages V8 keeps for a while). A run of weeks is judged by its slope (bench/soak).
    const after = source.afterCollection;
    if (after) {
      new Gauge({
        name: 'cascade_rss_after_collection_bytes',
        help: "Resident memory just after the memory reducer's latest compacting collection (the floor RSS comes back to); NaN before the first.",
        registers,
        collect() {
          this.set(after()?.rssBytes ?? NaN);
        },
      });
      new Gauge({
        name: 'cascade_last_collection_timestamp_seconds',
        help: "When the memory reducer's latest compacting collection ran (Unix seconds); NaN before the first.",
        registers,
        collect() {
          const a = after();
          this.set(a ? a.at / 1000 : NaN);
        },
      });
    }

    // Counters copied from the engine's running totals: reset, then set to the total, each scrape.
    const fromTotals = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (c: Counter<L>, s: SessionCounters | undefined) => void) =>
      new Counter<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          fill(this, now().counters);
        },
      });

    fromTotals('cascade_bytes_total', 'Piece data moved since the node started, in bytes, by direction and transport.', ['direction', 'transport'], (c, s) => {
      for (const transport of TRANSPORTS) {
        c.inc({ direction: 'received', transport }, s?.bytesReceived[transport] ?? 0);
        c.inc({ direction: 'sent', transport }, s?.bytesSent[transport] ?? 0);
      }
    });
    fromTotals('cascade_pieces_verified_total', 'Downloaded pieces that passed their SHA-1 check.', [], (c, s) => c.inc(s?.piecesVerified ?? 0));
    fromTotals('cascade_hash_failures_total', 'Downloaded pieces that failed their SHA-1 check.', [], (c, s) => c.inc(s?.hashFailures ?? 0));
    fromTotals('cascade_disk_errors_total', 'Reads and writes of torrent data the operating system refused.', [], (c, s) => c.inc(s?.diskErrors ?? 0));
    fromTotals('cascade_announces_total', 'Tracker announces this node made (HTTP, UDP, WebSocket, its own tracker), by result.', ['result'], (c, s) => {
      c.inc({ result: 'ok' }, s?.announces.ok ?? 0);
      c.inc({ result: 'error' }, s?.announces.error ?? 0);
    });
    fromTotals('cascade_dht_queries_total', 'DHT queries received (in) and sent (out), by KRPC method.', ['direction', 'type'], (c, s) => {
      for (const type of DHT_QUERY_TYPES) {
        c.inc({ direction: 'in', type }, s?.dhtQueries.in[type] ?? 0);
        c.inc({ direction: 'out', type }, s?.dhtQueries.out[type] ?? 0);
      }
    });
    fromTotals('cascade_lsd_messages_total', 'BEP 14 local service discovery messages: sent (one per address family), received, and dropped (malformed or over a budget).', ['direction'], (c, s) => {
      c.inc({ direction: 'sent' }, s?.lsd?.sent ?? 0);
      c.inc({ direction: 'received' }, s?.lsd?.received ?? 0);
      c.inc({ direction: 'dropped' }, s?.lsd?.dropped ?? 0);
    });
    fromTotals('cascade_lsd_peers_total', 'Peers learned by BEP 14 local service discovery (new to their torrent).', [], (c, s) => c.inc(s?.lsd?.peers ?? 0));

    new Gauge({
      name: 'cascade_peers',
      help: 'Connected peers by transport (webseed: web seeds fetching now).',
      labelNames: ['transport'],
      registers,
      collect() {
        const s = now().counters;
        for (const transport of TRANSPORTS) this.set({ transport }, s?.peers[transport] ?? 0);
      },
    });
    new Gauge({
      name: 'cascade_dht_nodes',
      help: 'Nodes in the DHT routing table (0 with the DHT off).',
      registers,
      collect() {
        this.set(now().counters?.dhtNodes ?? 0);
      },
    });
    new Gauge({
      name: 'cascade_torrents',
      help: 'Torrents in the library by state (queued: held back by the queue).',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const by = now().torrentsByState;
        for (const state of TORRENT_STATES) this.set({ state }, by.get(state) ?? 0);
        for (const [state, n] of by) if (!(TORRENT_STATES as readonly string[]).includes(state)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'cascade_checks_waiting',
      help: 'Torrents waiting their turn to hash their data (the node checks maxActiveChecks torrents at once).',
      registers,
      collect() {
        this.set(now().checksWaiting ?? 0);
      },
    });
    new Gauge({
      name: 'cascade_node_info',
      help: 'Always 1; the node version as a label.',
      labelNames: ['version'],
      registers,
    }).set({ version: source.version }, 1);
    if (source.cluster) this.#clusterGauges(registers);
  }

  /** A member's own place in its cluster and the members as the database lists them: each member
   *  reports the same members gauge, so a dashboard takes max() over members, not sum(). */
  #clusterGauges(registers: Registry[]): void {
    const now = () => this.#cluster;
    new Gauge({
      name: 'cascade_cluster_member_info',
      help: "Always 1 on a cluster member; its member id (node key did) and cluster URL as labels, to tell members apart.",
      labelNames: ['member', 'url'],
      registers,
      collect() {
        this.reset();
        const c = now();
        if (c) this.set({ member: c.member, url: c.url }, 1);
      },
    });
    const own = (name: string, help: string, read: (c: ClusterFigures) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const c = now();
          this.set(c ? read(c) : 0);
        },
      });
    own('cascade_cluster_epoch', "This member's epoch: bumped when it joins and when it is declared dead (fencing).", (c) => c.epoch);
    own('cascade_cluster_coordinator', '1 while this member holds the coordinator lease (it declares dead members and places replicas).', (c) => (c.coordinator ? 1 : 0));
    own('cascade_cluster_fenced', "1 while this member's lease was taken from it and it has not rejoined (it answers not ready).", (c) => (c.fenced ? 1 : 0));
    own('cascade_cluster_database_up', '1 when this scrape read the members from the database within 2 s, else 0 (then the members gauge is absent and replicas is NaN).', (c) => (c.members ? 1 : 0));
    new Gauge({
      name: 'cascade_cluster_members',
      help: "Cluster members by their lease on the database's clock (alive: renewed in time; dead: ran out, or left).",
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const m = now()?.members;
        if (!m) return;
        this.set({ state: 'alive' }, m.alive);
        this.set({ state: 'dead' }, m.dead);
      },
    });
    new Gauge({
      name: 'cascade_cluster_replicas',
      help: 'Members each torrent is to be held by: the replicas setting, else 2 with two or more members alive, else 1.',
      registers,
      collect() {
        // An unlabelled gauge cannot be absent: NaN (a gap on a graph), never a made-up 0.
        this.set(now()?.members?.replicas ?? NaN);
      },
    });
  }

  /** The exposition text: one snapshot of the node, then every collector over it. */
  async scrape(): Promise<string> {
    if (!this.#defaultsOn) {
      this.#defaultsOn = true;
      startDefaultMetrics(this.registry);
    }
    // Kept after the scrape (a few numbers): a second scrape running meanwhile reads a whole one.
    this.#current = this.#source.snapshot();
    if (this.#source.cluster) this.#cluster = await this.#source.cluster();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** How often the event-loop delay monitor samples, ms. prom-client's 10 ms costs about 1.3% of a
 *  core on an idle process (measured here); 100 ms about a tenth of that and still sees any stall
 *  long enough to matter. */
const EVENT_LOOP_RESOLUTION_MS = 100;

/**
 * prom-client's process and Node.js series (CPU, memory, event-loop lag, GC, handles), started at
 * the first scrape: a node nobody watches runs no event-loop monitor. Its CPU counters count from
 * their creation; the CPU used before that is added once, so they read CPU since the process began,
 * as Prometheus' process_cpu_* convention says.
 */
function startDefaultMetrics(registry: Registry): void {
  const before = process.cpuUsage();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS });
  const add = (name: string, micros: number) => (registry.getSingleMetric(name) as Counter | undefined)?.inc(micros / 1e6);
  add('process_cpu_user_seconds_total', before.user);
  add('process_cpu_system_seconds_total', before.system);
  add('process_cpu_seconds_total', before.user + before.system);
  // The monitor's histogram is reset at each scrape; read again before its next sample (the first
  // scrape, or two Prometheus replicas close together) its minimum is int64's largest value in ns,
  // 9.2e9 s on a graph. No sample means no minimum: NaN, as the mean already reads then.
  watchLiveHeap(registry);
  const min = registry.getSingleMetric('nodejs_eventloop_lag_min_seconds') as Gauge | undefined;
  if (min) {
    const get = min.get.bind(min);
    min.get = async () => {
      const r = await get();
      for (const v of r.values) if (v.value > NO_SAMPLE_S) v.value = NaN;
      return r;
    };
  }
}

/** Past this a "minimum event-loop delay" is the empty histogram's sentinel, not a delay (s). */
const NO_SAMPLE_S = 1e6;

/**
 * cascade_heap_live_bytes: the V8 heap in use just after the latest full (mark-compact) collection.
 * nodejs_heap_size_used_bytes also counts the garbage waiting for the next one, which swings by tens
 * of MB with the allocation rate and V8's growing limit; a leak is what survives collections (the
 * soak judges this, issue 63). Read in the GC observer's callback, a moment after the collection.
 * NaN until the first one.
 */
function watchLiveHeap(registry: Registry): void {
  let live = NaN;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (((e as { detail?: { kind?: number } }).detail)?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) live = getHeapStatistics().used_heap_size;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  new Gauge({
    name: 'cascade_heap_live_bytes',
    help: 'V8 heap in use just after the latest full garbage collection (the live heap, without garbage not yet collected); NaN before the first.',
    registers: [registry],
    collect() {
      this.set(live);
    },
  });
}
