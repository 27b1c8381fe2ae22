// deploy/haproxy/haproxy.cfg for the deployment tests: its sections read as haproxy reads them
// (a keyword at the start of a line opens a section, indented lines are its directives), and the
// real haproxy started on that file with only the members' addresses and the bind moved to loopback.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOY } from './deploy-helpers.ts';

export const HAPROXY_CFG = join(DEPLOY, 'haproxy/haproxy.cfg');

export interface Section {
  kind: string;
  name: string;
  /** Directives, comments dropped, whitespace collapsed. */
  lines: string[];
}

export function parseHaproxy(text: string): Section[] {
  const out: Section[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trimEnd();
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const [kind, name = ''] = line.trim().split(/\s+/);
      out.push({ kind: kind!, name, lines: [] });
    } else {
      assert.ok(out.length > 0, `a directive before any section: ${line}`);
      out.at(-1)!.lines.push(line.trim().replace(/\s+/g, ' '));
    }
  }
  return out;
}

export function section(sections: Section[], kind: string, name: string): Section {
  const s = sections.find((x) => x.kind === kind && x.name === name);
  assert.ok(s, `haproxy.cfg has no ${kind} ${name}`);
  return s;
}

/** `server NAME HOST:PORT …` lines of a backend. */
export function servers(s: Section): { name: string; host: string; port: number; rest: string[] }[] {
  return s.lines.filter((l) => l.startsWith('server ')).map((l) => {
    const [, name, addr, ...rest] = l.split(' ');
    const at = addr!.lastIndexOf(':');
    return { name: name!, host: addr!.slice(0, at), port: Number(addr!.slice(at + 1)), rest };
  });
}

/** `haproxy -c`: the file as haproxy itself reads it. */
export function haproxyCheck(file: string): { ok: boolean; output: string } {
  const r = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

export interface RunningHaproxy {
  /** http://127.0.0.1:port of the frontend. */
  url: string;
  /** Each backend's servers as haproxy's stats say they are now: "backend/server" → "UP", "DOWN"… */
  status(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * The repository's config with each `server NAME` line's address replaced by `at[NAME]` and the
 * frontend's bind by `bind`, everything else (checks, balancing, cookies) as written; plus a stats
 * listener in a second file, which is how the test sees what haproxy thinks of each member.
 */
export async function runHaproxy(dir: string, at: Record<string, string>, bind: string, statsPort: number): Promise<RunningHaproxy> {
  let text = readFileSync(HAPROXY_CFG, 'utf8');
  text = text.replace(/^(\s*server\s+(\S+)\s+)(\S+)/gm, (whole, head: string, name: string) => (at[name] ? `${head}${at[name]}` : whole));
  text = text.replace(/^(\s*bind\s+)\S+/gm, `$1${bind}`);
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, text);
  const stats = join(dir, 'stats.cfg');
  writeFileSync(stats, `listen test-stats\n    bind 127.0.0.1:${statsPort}\n    stats enable\n    stats uri /stats\n`);
  const check = haproxyCheck(cfg);
  assert.ok(check.ok, `haproxy -c on the moved config: ${check.output}`);
  let log = '';
  const child = spawn('haproxy', ['-db', '-f', cfg, '-f', stats], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log = (log + String(d)).slice(-20_000)));
  child.stderr!.on('data', (d) => (log = (log + String(d)).slice(-20_000)));
  const exited = once(child, 'exit');
  const statusNow = async (): Promise<Record<string, string>> => {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
    const [head = '', ...rows] = csv.split('\n');
    const col = head.replace(/^# /, '').split(',').indexOf('status');
    assert.ok(col > 1, `no status column in haproxy's stats: ${head}`);
    const out: Record<string, string> = {};
    for (const row of rows) {
      const cols = row.split(',');
      const [px, sv] = cols;
      if (px && sv && sv !== 'FRONTEND' && sv !== 'BACKEND') out[`${px}/${sv}`] = cols[col] ?? '';
    }
    return out;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) assert.fail(`haproxy exited with ${child.exitCode}: ${log}`);
    if (await statusNow().then(() => true, () => false)) break;
    assert.ok(i < 100, `haproxy's stats never answered: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `http://${bind}`,
    status: statusNow,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
