// A real Prometheus (Debian's `prometheus`, installed by scripts/system-packages.ts) for tests: on
// 127.0.0.1 at a port found free, with a generated config and a temporary TSDB, stopped when the test
// ends. Queries go through its HTTP API (/api/v1/query), as Grafana's would.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface ScrapeJob {
  job: string;
  /** "host:port" of each target. */
  targets: string[];
  /** Bearer credentials sent with every scrape. */
  bearer?: string;
  metricsPath?: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface TestPrometheus {
  url: string;
  /** An instant query; throws with Prometheus' own error when the query fails. */
  query(expr: string): Promise<Sample[]>;
  /** The raw answer of /api/v1/query (status, errorType, error, data), whatever it is. */
  queryRaw(expr: string): Promise<{ httpStatus: number; body: { status: string; error?: string; errorType?: string; data?: { result: unknown[] } } }>;
  /** Polls `expr` until `ok(samples)` (Prometheus scrapes every second); throws naming `what`. */
  until(what: string, expr: string, ok: (s: Sample[]) => boolean, ms?: number): Promise<Sample[]>;
}

/** A port nothing listens on right now (Prometheus needs a concrete --web.listen-address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** YAML is a superset of JSON: the config is written as JSON, no YAML library needed. */
function configOf(jobs: ScrapeJob[]): string {
  return JSON.stringify({
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: jobs.map((j) => ({
      job_name: j.job,
      metrics_path: j.metricsPath ?? '/metrics',
      ...(j.bearer ? { authorization: { type: 'Bearer', credentials: j.bearer } } : {}),
      static_configs: [{ targets: j.targets }],
    })),
  }, null, 2);
}

export async function startPrometheus(t: { after: (fn: () => unknown) => void }, jobs: ScrapeJob[]): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'cascade-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, configOf(jobs));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(PROMETHEUS_BIN, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  t.after(async () => {
    if (!gone) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  proc.once('error', (err) => {
    // Not installed: `npm test` installs it (scripts/system-packages.ts); by hand, apt-get install prometheus.
    stderr += `\ncannot start ${PROMETHEUS_BIN} (Debian package prometheus): ${err.message}`;
    gone = true;
  });

  // Ready when /-/ready answers 200 (the TSDB is open and the first config loaded).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (gone) throw new Error(`prometheus exited before it was ready:\n${stderr}`);
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const queryRaw: TestPrometheus['queryRaw'] = async (expr) => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    return { httpStatus: res.status, body: (await res.json()) as Awaited<ReturnType<TestPrometheus['queryRaw']>>['body'] };
  };
  const query = async (expr: string): Promise<Sample[]> => {
    const { httpStatus, body } = await queryRaw(expr);
    if (body.status !== 'success') throw new Error(`query ${expr} failed (${httpStatus} ${body.errorType}): ${body.error}`);
    return (body.data!.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };
  return {
    url,
    query,
    queryRaw,
    async until(what, expr, ok, ms = 30_000) {
      const end = Date.now() + ms;
      let last: Sample[] = [];
      for (;;) {
        last = await query(expr);
        if (ok(last)) return last;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${expr} = ${JSON.stringify(last)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}
