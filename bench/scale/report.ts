// The table the benchmark ends with: each figure for Cascade, for transmission-daemon, their ratio,
// and issue 25's target with PASS/FAIL. A FAIL is a finding, not an error: the run still exits 0.

import type { CascadeFigures } from './cascade-side.ts';
import type { TransmissionFigures } from './transmission.ts';

export interface Row {
  figure: string;
  unit: string;
  cascade: number | null;
  transmission: number | null;
  /** "≥ 200", "≤ 300", "= 1"…, or null for figures without a target. */
  target: string | null;
  verdict: 'PASS' | 'FAIL' | null;
}

const MB = 1e6;

function judge(value: number | null, target: string | null): Row['verdict'] {
  if (target === null || value === null) return target === null ? null : 'FAIL';
  const [op, num] = target.split(' ') as [string, string];
  const limit = Number(num);
  return (op === '≥' ? value >= limit : op === '=' ? value === limit : value <= limit) ? 'PASS' : 'FAIL';
}

export function rows(n: number, cf: CascadeFigures | null, t: TransmissionFigures | null): Row[] {
  // With --no-cascade only the reference's column is filled.
  const c = (cf ?? {}) as Partial<CascadeFigures>;
  const row = (figure: string, unit: string, cascade: number | null, transmission: number | null, target: string | null): Row => ({
    figure,
    unit,
    cascade,
    transmission,
    target,
    verdict: cf ? judge(cascade, target) : null,
  });
  const big = n >= 10_000 ? '' : ` (targets are for 10,000)`;
  return [
    row(`add rate, all ${n}${big}`, '/s', c.add?.overall ?? null, t?.add.overall ?? null, '≥ 200'),
    row(`add rate, slowest ${c.add?.block ?? t?.add.block}`, '/s', c.add ? Math.min(...c.add.perBlock) : null, t ? Math.min(...t.add.perBlock) : null, '≥ 200'),
    row('add: CPU per torrent', 'ms', c.add?.cpuMsPerAdd ?? null, t?.add.cpuMsPerAdd ?? null, null),
    row('RSS after the adds', 'MB', c.rssAfterAdds !== undefined ? c.rssAfterAdds / MB : null, t ? t.rssAfterAdds / MB : null, '≤ 250'),
    row('idle CPU, no client', '% core', c.idleNoClient?.percent ?? null, t?.idleNoClient.percent ?? null, '≤ 0.05'),
    row(`idle CPU, ${c.withPage?.client === 'chromium+socket.io' ? 'page open' : 'socket.io client (no page)'}`, '% core', c.withPage?.percent ?? null, null, '≤ 3'),
    row('feed to one client', 'KB/s', c.withPage ? c.withPage.feedBytesPerSecond / 1000 : null, null, '≤ 10'),
    row('page: first rows shown', 's', c.withPage?.pageFirstRowsAfter ?? null, null, c.withPage?.client === 'chromium+socket.io' ? '≤ 2' : null),
    row('feed: a change reaches it', 's', c.withPage?.changeLatency ?? null, null, '≤ 1'),
    ...pageRows(c, row),
    row('GET page of 100 (sort=name)', 'ms', c.pageOf100Ms ?? null, null, '≤ 50'),
    row('GET all (T: torrent-get, 6 fields)', 'ms', c.allMs ?? null, t?.getAllMs ?? null, '≤ 250'),
    row('GET all, size', 'MB', c.allBytes !== undefined ? c.allBytes / MB : null, t ? t.getAllBytes / MB : null, null),
    row('GET one torrent', 'ms', c.singleMs ?? null, null, '≤ 20'),
    row('cascade list', 's', c.cliList?.seconds ?? null, null, '≤ 2'),
    row('stop (SIGTERM → exit)', 's', c.stop?.seconds ?? null, t?.stop.seconds ?? null, null),
    row('restart: lists all', 's', c.restart?.listsAllAfter ?? null, t?.restart.listsAllAfter ?? null, '≤ 5'),
    row('restart: all seeding', 's', c.restart?.allSeedingAfter ?? null, t?.restart.allSeedingAfter ?? null, null),
    row('restart: torrents seen checking', '', c.restart?.seenChecking ?? null, t?.restart.seenChecking ?? null, '≤ 0'),
    row('RSS 30 s after restart', 'MB', c.rssAfterRestart !== undefined ? c.rssAfterRestart / MB : null, t ? t.rssAfterRestart / MB : null, '≤ 250'),
    row('idle CPU after restart', '% core', c.idleAfterRestart?.percent ?? null, t?.idleAfterRestart.percent ?? null, '≤ 0.05'),
  ];
}

function fmt(v: number | null): string {
  if (v === null) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function table(rs: Row[]): string {
  const head = ['figure', 'unit', 'Cascade', 'transmission', 'C/T', 'target', ''];
  const body = rs.map((r) => [
    r.figure,
    r.unit,
    fmt(r.cascade),
    fmt(r.transmission),
    r.cascade !== null && r.transmission !== null && r.transmission !== 0 ? `${(r.cascade / r.transmission).toFixed(2)}×` : '—',
    r.target ?? '',
    r.verdict ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The page's actions (page-actions.ts): only with a browser page. */
function pageRows(c: Partial<CascadeFigures>, row: (figure: string, unit: string, cascade: number | null, transmission: number | null, target: string | null) => Row): Row[] {
  if (c.withPage?.client !== 'chromium+socket.io') return [];
  const a = c.withPage.pageActions;
  return [
    row('page: most torrent-rows in the page', '', a?.maxRowsInPage ?? null, null, '≤ 499'),
    row('page: last torrent reached (1 = yes)', '', a ? Number(a.lastReachable) : null, null, '= 1'),
    row('page: search, slowest (one/prefix/clear)', 'ms', a ? Math.max(a.searchOneMs, a.searchPrefixMs, a.searchClearMs) : null, null, '≤ 300'),
    row('page: sort by name, slower way', 'ms', a?.sortMs ?? null, null, '≤ 300'),
    row('page: select all + pause, requests', '', a?.pauseAll.requests ?? null, null, '= 1'),
    row('page: select all + pause, all paused', 's', a?.pauseAll.seconds ?? null, null, null),
    row('page: select all + resume, requests', '', a?.resumeAll.requests ?? null, null, '= 1'),
    row('page: select all + resume, all seeding', 's', a?.resumeAll.seconds ?? null, null, null),
  ];
}
