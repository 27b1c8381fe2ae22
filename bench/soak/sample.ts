// One sample of the node, every interval: what the kernel says of its process (RSS, descriptors,
// sockets), what it says of itself on GET /metrics (prom-client: V8 heap used; the heap live after
// the latest full collection; active handles, active timers from process.getActiveResourcesInfo(),
// event-loop delay p99 since the last scrape), and what is on its disk (database + WAL, rows per
// table, state dir, log).

import { readdirSync, readlinkSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { api, type SoakNode } from './node.ts';

export interface Sample {
  /** Seconds since the soak began. */
  t: number;
  phase: string;
  values: Record<string, number>;
}

/** prom-client's event-loop monitor samples every 100 ms (packages/http/src/metrics/collectors.ts);
 *  Node's histogram records each whole interval, so its p99 includes that 100 ms. */
const ELD_RESOLUTION_S = 0.1;

/** Prometheus text → series name (with labels) → value. */
export function parseProm(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

function fdCounts(pid: number): { fds: number; sockets: number } {
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed while listed
    }
  }
  return { fds, sockets };
}

/** RSS and its anonymous and file-backed parts, in bytes, from one read of /proc/PID/status. */
function rssBytes(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

export function duBytes(path: string): number {
  let total = 0;
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else total += st.size;
  };
  walk(path);
  return total;
}

const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);

/** Rows in every table of a SQLite file, read-only beside the node (WAL lets a reader in). */
export function tableRows(file: string, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(file)) return out;
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    for (const { name } of tables) out[`${prefix}${name}`] = Number((db.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n);
  } finally {
    db.close();
  }
  return out;
}

/** Every measure at once. Throws when the node does not answer /metrics (a stuck node is a finding). */
export async function sampleNode(node: SoakNode, t: number, phase: string): Promise<Sample> {
  const res = await api(node, '/metrics');
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  const prom = parseProm(await res.text());
  const { fds, sockets } = fdCounts(node.pid);
  const db = join(node.stateDir, 'cascade.db');
  const chat = join(node.stateDir, 'chat.db');
  const p99 = prom.get('nodejs_eventloop_lag_p99_seconds') ?? NaN;
  const rss = rssBytes(node.pid);
  const values: Record<string, number> = {
    rss_mb: rss.rss / 2 ** 20,
    // Where RSS's growth is when the live heap is flat: anonymous memory (V8's committed heap,
    // malloc's arenas) against mapped files (code, the binary); and V8's committed heap itself.
    rss_anon_mb: rss.anon / 2 ** 20,
    rss_file_mb: rss.file / 2 ** 20,
    heap_total_mb: (prom.get('nodejs_heap_size_total_bytes') ?? NaN) / 2 ** 20,
    // RSS just after the node's latest compacting collection (its memory reducer), and when: the
    // floor RSS comes back to, comparable from one collection to the next (report.ts judges it).
    rss_collected_mb: (prom.get('cascade_rss_after_collection_bytes') ?? NaN) / 2 ** 20,
    collected_at_s: prom.get('cascade_last_collection_timestamp_seconds') ?? NaN,
    heap_used_mb: (prom.get('nodejs_heap_size_used_bytes') ?? NaN) / 2 ** 20,
    heap_live_mb: (prom.get('cascade_heap_live_bytes') ?? NaN) / 2 ** 20,
    // What of the live heap is compiled code and its metadata (bytecode: V8's trusted space), which
    // grows as more functions warm and stands once they have: ~20 of ~70 MB in a cluster member.
    heap_code_mb: ['code', 'code_large_object', 'trusted', 'trusted_large_object'].reduce((n, sp) => n + (prom.get(`nodejs_heap_space_size_used_bytes{space="${sp}"}`) ?? 0), 0) / 2 ** 20,
    external_mb: (prom.get('nodejs_external_memory_bytes') ?? NaN) / 2 ** 20,
    fds,
    sockets,
    handles: prom.get('nodejs_active_handles_total') ?? NaN,
    timers: prom.get('nodejs_active_resources{type="Timeout"}') ?? 0,
    resources: prom.get('nodejs_active_resources_total') ?? NaN,
    eld_p99_ms: Math.max(0, (p99 - ELD_RESOLUTION_S) * 1000),
    db_mb: (size(db) + size(`${db}-wal`)) / 2 ** 20,
    wal_mb: size(`${db}-wal`) / 2 ** 20,
    chat_db_mb: (size(chat) + size(`${chat}-wal`)) / 2 ** 20,
    state_dir_mb: duBytes(node.stateDir) / 2 ** 20,
    log_mb: (size(node.logPath) + duBytes(join(node.stateDir, 'logs'))) / 2 ** 20,
    ...Object.fromEntries(Object.entries({ ...tableRows(db, 'rows.'), ...tableRows(chat, 'rows.chat.') })),
  };
  return { t, phase, values };
}
