// /stats (JSON and a small HTML page) and /metrics (Prometheus text format, written by hand: a
// few counters and gauges do not need a client library).

import type { TrackerCore } from '../core/core.ts';
import { PROTOCOLS } from '../core/metrics.ts';
import type { StoreTotals } from '../store/store.ts';

export interface StatsSnapshot extends StoreTotals {
  mode: 'public' | 'private';
  store: 'memory' | 'redis';
  announcesPerSecond: number;
  announces: Record<string, number>;
  scrapes: Record<string, number>;
  failures: Record<string, number>;
  rateLimited: Record<string, number>;
  wsConnections: number;
  /** STUN binding requests answered on the UDP port. */
  stunAnswers: number;
  /** How UDP datagrams move: 'mmsg' (recvmmsg/sendmmsg batches, Linux) or 'dgram' (node:dgram). */
  udpIo: string;
  /** Announces made in-process by the node embedding the tracker (not requests: not in `announces`). */
  localAnnounces: number;
  users?: number;
  uptimeSeconds: number;
  memoryRssBytes: number;
}

// Totals under Redis cost a walk over every swarm: answer repeated polls from a short cache.
const TOTALS_CACHE_MS = 1000;

export class StatsSource {
  private readonly core: TrackerCore;
  private readonly storeKind: 'memory' | 'redis';
  private cached: { at: number; totals: Promise<StoreTotals> } | undefined;

  constructor(core: TrackerCore, storeKind: 'memory' | 'redis') {
    this.core = core;
    this.storeKind = storeKind;
  }

  async snapshot(): Promise<StatsSnapshot> {
    const now = Date.now();
    if (!this.cached || now - this.cached.at > TOTALS_CACHE_MS) {
      this.cached = { at: now, totals: Promise.resolve(this.core.store.totals()) };
      // A failed lookup must not be served from cache.
      this.cached.totals.catch(() => (this.cached = undefined));
    }
    const totals = await this.cached.totals;
    const m = this.core.metrics;
    const snap: StatsSnapshot = {
      mode: this.core.private ? 'private' : 'public',
      store: this.storeKind,
      ...totals,
      announcesPerSecond: Math.round(m.announcesPerSecond(now) * 10) / 10,
      announces: { ...m.announces },
      scrapes: { ...m.scrapes },
      failures: { ...m.failures },
      rateLimited: { ...m.rateLimited },
      wsConnections: m.wsConnections,
      stunAnswers: m.stunAnswers,
      udpIo: m.udpIo,
      localAnnounces: m.localAnnounces,
      uptimeSeconds: Math.floor((now - m.startedAt) / 1000),
      memoryRssBytes: process.memoryUsage.rss(),
    };
    if (this.core.private) snap.users = (await this.core.store.users()).length;
    return snap;
  }
}

export function statsHtml(s: StatsSnapshot): string {
  const row = (k: string, v: string | number) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`;
  const perProto = (r: Record<string, number>) => PROTOCOLS.map((p) => `${p} ${r[p] ?? 0}`).join(' · ');
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="10"><title>Cascade tracker</title>
<style>body{font:15px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}th{text-align:left;padding:.3em 1.5em .3em 0;font-weight:500;color:#555}td{font-variant-numeric:tabular-nums}</style>
</head><body><h1>Cascade tracker</h1><table>
${row('mode', `${s.mode} (${s.store} store)`)}
${row('torrents', s.torrents)}
${row('peers', s.peers)}
${row('seeders', s.seeders)}
${row('leechers', s.leechers)}
${row('announces / second', s.announcesPerSecond)}
${row('announces', perProto(s.announces))}
${row('scrapes', perProto(s.scrapes))}
${row('failures', perProto(s.failures))}
${row('rate limited', perProto(s.rateLimited))}
${row('websocket connections', s.wsConnections)}
${row('STUN answers', s.stunAnswers)}
${s.users !== undefined ? row('users', s.users) : ''}
${row('uptime (s)', s.uptimeSeconds)}
</table><p><a href="/stats.json">JSON</a> · <a href="/metrics">Prometheus metrics</a></p></body></html>
`;
}

export function metricsText(s: StatsSnapshot, core: TrackerCore): string {
  const m = core.metrics;
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
  };
  const byProto = (r: Record<string, number>): [string, number][] => PROTOCOLS.map((p) => [`{protocol="${p}"}`, r[p] ?? 0]);
  metric('cascade_tracker_announces_total', 'counter', 'Announces received.', byProto(m.announces));
  metric('cascade_tracker_scrapes_total', 'counter', 'Scrapes received.', byProto(m.scrapes));
  metric('cascade_tracker_failures_total', 'counter', 'Requests answered with a failure reason.', byProto(m.failures));
  metric('cascade_tracker_rate_limited_total', 'counter', 'Requests refused by the per-IP rate limit.', byProto(m.rateLimited));
  metric('cascade_tracker_udp_connects_total', 'counter', 'UDP connect requests answered.', [['', m.udpConnects]]);
  metric('cascade_tracker_stun_answers_total', 'counter', 'STUN binding requests answered on the UDP port.', [['', m.stunAnswers]]);
  metric('cascade_tracker_udp_dropped_total', 'counter', 'UDP packets dropped unanswered.', [['', m.udpDropped]]);
  metric('cascade_tracker_ws_relayed_total', 'counter', 'WebRTC offers and answers relayed.', [['', m.wsRelayed]]);
  metric('cascade_tracker_ws_connections', 'gauge', 'Open WebSocket connections.', [['', m.wsConnections]]);
  metric('cascade_tracker_torrents', 'gauge', 'Torrents with a swarm.', [['', s.torrents]]);
  metric('cascade_tracker_peers', 'gauge', 'Peers in all swarms.', [
    ['{state="seeder"}', s.seeders],
    ['{state="leecher"}', s.leechers],
  ]);
  metric('cascade_tracker_announces_per_second', 'gauge', 'Announces per second over the last 10 seconds.', [['', s.announcesPerSecond]]);
  if (s.users !== undefined) metric('cascade_tracker_users', 'gauge', 'Registered users.', [['', s.users]]);
  metric('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', [['', s.memoryRssBytes]]);
  metric('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', [['', Math.floor(m.startedAt / 1000)]]);
  return out.join('\n') + '\n';
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
