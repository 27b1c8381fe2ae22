// The soak's verdict: for each measure, its value at the end of the warm-up and at the end, its
// least-squares slope per hour over the samples after the warm-up, and that slope over a month
// (720 h); then the failures: growth not explained by live data.

import type { Sample } from './sample.ts';

export interface Row {
  key: string;
  warm: number;
  end: number;
  slopePerHour: number;
  perMonth: number;
  /** Memory rows: the slope of each window's least sample (see floorSlopePerHour). */
  floorSlopePerHour?: number;
  /** RSS rows: the slope of the RSS just after each collection of the node's (afterCollections),
   *  and how many collections it is fitted on. */
  collectedSlopePerHour?: number;
  collections?: number;
  /** Quiet level before the main churn and after it stopped (descriptors, sockets, handles, timers). */
  quietBefore?: number;
  quietAfter?: number;
}

/** Least-squares slope of y over t (seconds), per hour. */
export function slopePerHour(points: { t: number; y: number }[]): number {
  const pts = points.filter((p) => Number.isFinite(p.y));
  if (pts.length < 2) return 0;
  const mt = pts.reduce((s, p) => s + p.t, 0) / pts.length;
  const my = pts.reduce((s, p) => s + p.y, 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const p of pts) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 3600;
}

/**
 * The slope, per hour, of the least sample in each of `windows` equal stretches of time: memory
 * just after a collection. A heap or RSS sample also counts garbage not yet collected, and in the
 * 2-hour run of 29 Nov the samples swung 30-50 MB between collections while the least of each
 * 15 minutes moved ~1 MB/h. RSS is judged on it (see MEMORY_JUDGED).
 */
export function floorSlopePerHour(points: { t: number; y: number }[], windows = 8): number {
  const pts = points.filter((p) => Number.isFinite(p.y));
  if (pts.length < 2 * windows) return NaN;
  const t0 = pts[0]!.t;
  const span = pts[pts.length - 1]!.t - t0 || 1;
  const least = new Map<number, { t: number; y: number }>();
  for (const p of pts) {
    const w = Math.min(windows - 1, Math.floor(((p.t - t0) / span) * windows));
    const cur = least.get(w);
    if (!cur || p.y < cur.y) least.set(w, { t: t0 + ((w + 0.5) * span) / windows, y: p.y });
  }
  return slopePerHour([...least.values()]);
}

export interface Limits {
  /** RSS and heap: MB per hour. */
  memorySlopeMbPerHour: number;
  eldP99Ms: number;
  /** How far above its quiet level before the churn a count may be after it (absolute, and share). */
  quietSlack: number;
  quietShare: number;
  /** A table "grows with history" when it gained more than this many rows and this share beyond what the live torrents did. */
  tableSlackRows: number;
  tableShare: number;
}

export const DEFAULT_LIMITS: Limits = { memorySlopeMbPerHour: 2, eldP99Ms: 50, quietSlack: 4, quietShare: 0.1, tableSlackRows: 20, tableShare: 0.1 };

/**
 * Tables whose rows are bounded by time or by a cap rather than by the live library (docs/retention.md):
 * a run shorter than the bound sees them grow, so their growth is reported with the bound, not failed.
 * A table not here that grows beyond the live torrents fails.
 */
export const BOUNDED_TABLES: Record<string, string> = {
  'rows.chat.envelopes': 'kept 30 days (CHAT_RETENTION_MS)',
  'rows.peers': 'idle 30 days (bans 90), at most 10,000',
  'rows.identity_ledger': 'clean and idle 180 days, at most 10,000',
  'rows.dht_blames': 'kept 90 days',
  'rows.receipts_held': 'forgotten once expired (30 days by default)',
  'rows.rss_items': 'the newest 200 per feed (maxItemsPerFeed)',
  'rows.rss_matches': 'kept while its item is in the feed, then 365 days (MATCH_RETENTION_MS)',
  'rows.chat.profiles': 'in a room, invited, named by an envelope, or signed in within 30 days (CHAT_RETENTION_MS)',
  'rows.compat_sessions': 'idle 1 hour, at most 256 (qBittorrent web_ui_session_timeout)',
  'rows.sessions': 'expire after 30 days, at most 50,000',
  'rows.compat_login_failures': 'forgotten once the ban window passed',
};

/** Counts that must come back to their level once the churn stops; the cluster's stores add the
 *  connections to PostgreSQL and Redis's clients (a pool that never gives one back). */
const QUIET_KEYS = ['fds', 'sockets', 'handles', 'timers', 'connections', 'clients'];

/**
 * A measure's scope and name: the single node's keys have no scope (`rss_mb`); the cluster's are
 * `m1:rss_mb` (a member), `pg:rows.torrents`, `redis:keys` (cluster.ts). Every rule reads the name,
 * so each member and store is judged as the single node is.
 */
export function scoped(key: string): { scope: string; name: string } {
  const m = /^([\w-]+):(.*)$/.exec(key);
  return m ? { scope: m[1]!, name: m[2]! } : { scope: '', name: key };
}
const named = (key: string) => scoped(key).name;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export interface Verdict {
  rows: Row[];
  failures: string[];
  /** Tables that grew within a documented bound the run was too short to reach. */
  notes: string[];
  eldMaxMs: number;
  eldP99OfSamplesMs: number;
}

/**
 * `steady` samples (after the warm-up, churn running) give slopes; `quietBefore`/`quietAfter`
 * (no churn, settled) give the levels descriptors and handles must return to; `liveTorrents` at the
 * warm-up's end and at the end scale what a table may hold.
 */
// The rest get a floor slope in the table too, judged or not: RSS's parts, V8's committed heap.
const MEMORY_KEYS = ['rss_mb', 'rss_collected_mb', 'heap_used_mb', 'heap_live_mb', 'heap_code_mb', 'rss_anon_mb', 'rss_file_mb', 'heap_total_mb'];

/** Collections a node reports during the steady phase before RSS is judged on them (below). */
const MIN_COLLECTIONS = 4;

/**
 * The RSS a node reported just after each of its compacting collections in the steady phase (its
 * memory reducer, /metrics' cascade_rss_after_collection_bytes): one point per collection, at its
 * time (s since the epoch). A collection reported at the steady phase's first sample ran in the
 * warm-up and is left out.
 */
export function afterCollections(steady: Sample[], scope: string): { t: number; y: number }[] {
  const k = (name: string) => (scope ? `${scope}:${name}` : name);
  const first = steady[0]?.values[k('collected_at_s')];
  const points = new Map<number, number>();
  for (const s of steady) {
    const at = s.values[k('collected_at_s')], rss = s.values[k('rss_collected_mb')];
    if (at === undefined || rss === undefined || !Number.isFinite(at) || !Number.isFinite(rss) || at === first) continue;
    points.set(at, rss);
  }
  return [...points].map(([t, y]) => ({ t, y }));
}

/**
 * What each memory measure is judged on, against the same limit (issue 63: growth not explained by
 * live data fails). The live heap (cascade_heap_live_bytes: V8's heap just after its latest full
 * collection) on its slope. RSS on its floor slope: a sample counts the heap's garbage too, and V8
 * lets more of it wait between collections as a run goes on (29 Nov: the samples' slope 12.6 MB/h,
 * the floors' 1.2). heap_used is shown and judged only where a node gives no live heap (an older
 * node): its slope then, as before. Every slope stays in the table.
 * RSS, where the node reports MIN_COLLECTIONS of its reducer's collections in the steady phase: on
 * the slope of the RSS it read just after each. The least sample of a window depends on how soon
 * after a collection a sample happens to fall (V8 takes pages back within seconds): in the 2-hour
 * cluster run of 1 Dec the floors' slope read -4.3 to +3.6 MB/h for one member with 4, 8 or 16
 * windows. Its floor slope stays in the table.
 */
function judgedSlope(r: Row, hasLive: boolean): { value: number; what: string } | undefined {
  const name = named(r.key);
  if (name === 'heap_live_mb') return { value: r.slopePerHour, what: 'slope' };
  if (name === 'rss_mb' && (r.collections ?? 0) >= MIN_COLLECTIONS) return { value: r.collectedSlopePerHour!, what: `slope just after ${r.collections} collections` };
  if (name === 'rss_mb') return Number.isFinite(r.floorSlopePerHour) ? { value: r.floorSlopePerHour!, what: 'floor slope' } : { value: r.slopePerHour, what: 'slope' };
  if (name === 'heap_used_mb' && !hasLive) return { value: r.slopePerHour, what: 'slope' };
  return undefined;
}

export function judge(samples: Sample[], limits: Limits = DEFAULT_LIMITS): Verdict {
  const steady = samples.filter((s) => s.phase === 'steady');
  const qb = samples.filter((s) => s.phase === 'quiet-before');
  const qa = samples.filter((s) => s.phase === 'quiet-after');
  // When a node's latest collection ran is what afterCollections reads, not a measure.
  const keys = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].filter((k) => named(k) !== 'collected_at_s');
  const rows: Row[] = [];
  const failures: string[] = [];
  const notes: string[] = [];
  if (steady.length < 3) failures.push(`only ${steady.length} samples after the warm-up: too short a run to fit a slope`);
  const first = steady[0];
  const last = steady[steady.length - 1];
  for (const key of keys) {
    const slope = slopePerHour(steady.map((s) => ({ t: s.t, y: s.values[key] ?? NaN })));
    const row: Row = { key, warm: first?.values[key] ?? NaN, end: last?.values[key] ?? NaN, slopePerHour: slope, perMonth: slope * 720 };
    if (QUIET_KEYS.includes(named(key)) && qb.length > 0 && qa.length > 0) {
      row.quietBefore = Math.min(...qb.map((s) => s.values[key] ?? NaN));
      row.quietAfter = Math.min(...qa.map((s) => s.values[key] ?? NaN));
      const allowed = row.quietBefore + Math.max(limits.quietSlack, row.quietBefore * limits.quietShare);
      if (row.quietAfter > allowed) failures.push(`${key}: ${row.quietAfter} after the churn stopped, ${row.quietBefore} before it (allowed ${allowed.toFixed(0)})`);
    }
    if (MEMORY_KEYS.includes(named(key))) row.floorSlopePerHour = floorSlopePerHour(steady.map((s) => ({ t: s.t, y: s.values[key] ?? NaN })));
    if (named(key) === 'rss_mb') {
      const collected = afterCollections(steady, scoped(key).scope);
      if (collected.length >= 2) {
        row.collectedSlopePerHour = slopePerHour(collected);
        row.collections = collected.length;
      }
    }
    rows.push(row);
  }
  for (const r of rows.filter((x) => MEMORY_KEYS.includes(named(x.key)))) {
    const { scope } = scoped(r.key);
    const hasLive = steady.some((s) => Number.isFinite(s.values[scope ? `${scope}:heap_live_mb` : 'heap_live_mb']));
    const j = judgedSlope(r, hasLive);
    if (named(r.key) === 'heap_live_mb' && !hasLive) continue;
    if (j && j.value >= limits.memorySlopeMbPerHour) failures.push(`${r.key}: ${j.what} ${j.value.toFixed(2)} MB/h ≥ ${limits.memorySlopeMbPerHour} MB/h after the warm-up`);
  }
  // Each node's event-loop delay (the single node's, or each member's) against the limit.
  let eldAll: number[] = [];
  for (const key of keys.filter((k) => named(k) === 'eld_p99_ms')) {
    const eld = steady.map((s) => s.values[key] ?? 0).sort((a, b) => a - b);
    eldAll = eldAll.concat(eld);
    const over = steady.filter((s) => (s.values[key] ?? 0) >= limits.eldP99Ms);
    const alsoHarness = over.filter((s) => (s.values.harness_eld_p99_ms ?? 0) >= limits.eldP99Ms).length;
    const max = eld[eld.length - 1] ?? 0;
    if (max >= limits.eldP99Ms) {
      failures.push(`${key === 'eld_p99_ms' ? '' : `${scoped(key).scope}: `}event-loop delay p99 reached ${max.toFixed(1)} ms (limit ${limits.eldP99Ms} ms) in ${over.length} of ${eld.length} samples (in ${alsoHarness} of them the soak's own loop stalled as long: the machine's load)`);
    }
  }
  eldAll.sort((a, b) => a - b);
  const eldMaxMs = eldAll[eldAll.length - 1] ?? 0;
  const eldP99OfSamplesMs = eldAll[Math.min(eldAll.length - 1, Math.floor(eldAll.length * 0.99))] ?? 0;
  const liveKey = keys.find((k) => named(k) === 'rows.torrents') ?? 'rows.torrents';
  const live = (s: Sample | undefined) => s?.values[liveKey] ?? 0;
  const liveGrowth = live(first) > 0 ? live(last) / live(first) : 1;
  // Rows of a table, and Redis's keys that never expire: proportional to the live library, or bounded.
  for (const r of rows.filter((x) => named(x.key).startsWith('rows.') || named(x.key) === 'keys_no_ttl')) {
    if (!first || !last) break;
    const expected = r.warm * Math.max(1, liveGrowth);
    const gained = r.end - expected;
    if (gained > limits.tableSlackRows && gained > expected * limits.tableShare && r.slopePerHour > 0) {
      const { scope, name } = scoped(r.key);
      const what = name === 'keys_no_ttl' ? `${scope} keys without expiry` : `table ${scope ? `${scope}:` : ''}${name.slice(5)}`;
      const unit = name === 'keys_no_ttl' ? 'keys' : 'rows';
      const bound = BOUNDED_TABLES[name];
      if (bound) notes.push(`${what}: ${r.warm} → ${r.end} ${unit}, bounded: ${bound}`);
      else failures.push(`${what}: ${r.warm} → ${r.end} ${unit} while live torrents went ${live(first)} → ${live(last)} (${r.slopePerHour.toFixed(0)} ${unit}/h, ${r.perMonth.toFixed(0)} a month)`);
    }
  }
  return { rows, failures, notes, eldMaxMs, eldP99OfSamplesMs };
}

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3));

/** The table the closing note shows. */
export function formatTable(v: Verdict): string {
  const head = ['measure', 'warm-up', 'end', 'slope/h', 'per month', 'floor slope/h', 'after-collection slope/h', 'quiet before', 'quiet after'];
  const lines = [head, ...v.rows.map((r) => [r.key, fmt(r.warm), fmt(r.end), fmt(r.slopePerHour), fmt(r.perMonth), fmt(r.floorSlopePerHour), fmt(r.collectedSlopePerHour), fmt(r.quietBefore), fmt(r.quietAfter)])];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
