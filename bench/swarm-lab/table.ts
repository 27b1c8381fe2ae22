// The swarm lab's table: one row per swarm, issue 60's targets beside each figure, then each peer's
// completion. A target compared with another row (the same scenario's libtorrent swarm, the flash
// crowd of the same N and clients) is filled in only when that row ran in the same sitting.
import type { Figures } from './metrics.ts';

export const f1 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));
export const f2 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2));
export const pct = (x: number | undefined, d = 0) => (x === undefined ? '—' : `${(x * 100).toFixed(d)}%`);
/** A swarm's name in a table: its client mix, and whether receipts were off. */
export const swarmLabel = (f: Figures) => f.clients + (f.chain ? '' : ' no-chain');

function ratioTarget(f: Figures, all: Figures[]): string {
  if (f.scenario === 'flash') return f.n >= 32 ? '≤1.25' : '≤1.15';
  if (f.scenario === 'late') {
    const flash = all.find((g) => g.scenario === 'flash' && g.n === f.n && g.clients === f.clients && g.chain === f.chain && g.makespan);
    return flash ? `≤${f2(flash.makespan! / flash.tStar)} flash` : '≤flash';
  }
  return '';
}

function vsLt(f: Figures, all: Figures[]): string {
  if (f.clients !== 'cascade') return '';
  const lt = all.find((g) => g.scenario === f.scenario && g.n === f.n && g.sizeMiB === f.sizeMiB && g.clients === 'lt');
  return lt?.makespan !== undefined ? `≤lt ${f1(lt.makespan)}` : '';
}

function slowTarget(f: Figures, all: Figures[]): string {
  if (f.othersMakespan === undefined) return '—';
  const flash = all.find((g) => g.scenario === 'flash' && g.n === f.n && g.sizeMiB === f.sizeMiB && g.clients === f.clients && g.chain === f.chain);
  return flash?.makespan ? `${f1(f.othersMakespan)} (≤${f1(flash.makespan * 1.05)})` : `${f1(f.othersMakespan)} (≤1.05×flash, not run)`;
}

const withT = (v: string, t: string) => (t ? `${v} (${t})` : v);

export function printTable(all: Figures[]): void {
  const head = ['scenario', 'clients', 'N', 'F MiB', 'T* s', 'makespan s', '÷T*', 'mean s', 'first→last s', 'seed copies', 'up use mean/min',
    'dup max (client)', 'rx excess max (wire)', 'CPU-s C/lt/seed', 'start s C/lt', 'stalls (longest s)', 'C/lt mean', 'C up÷down min (÷ cap-allowed)', 'C from lt', 'slow: others s', 'done'];
  const rows: string[][] = [];
  for (const f of all) {
    const ratio = f.makespan !== undefined ? f.makespan / f.tStar : undefined;
    rows.push([
      f.scenario,
      swarmLabel(f),
      String(f.n),
      f.sizeMiB.toFixed(0),
      f1(f.tStar),
      withT(f1(f.makespan), vsLt(f, all)),
      withT(f2(ratio), ratioTarget(f, all)),
      f1(f.mean),
      f1(f.spread),
      withT(`${f.seedCopiesBound ? '≤' : ''}${f2(f.seedCopies)}`, '≤1.3'),
      withT(`${pct(f.upUseMean)}/${pct(f.upUseMin)}`, '≥85%'),
      withT(pct(f.dupMax, 1), '≤1%'),
      pct(f.rxExcessMax, 1),
      `${f1(f.cpuCascade)}/${f1(f.cpuLt)}/${f1(f.cpuSeed)}`,
      `${f1(f.startCascade)}/${f1(f.startLt)}`,
      withT(`${f.stalls} (${f1(f.longestStall)})`, f.scenario === 'arrivals' || f.scenario === 'leaves' ? '0' : ''),
      f.mixedRatio !== undefined ? `${f2(f.mixedRatio)} (0.9–1.1)` : '—',
      f.mixedUpDownMin !== undefined ? `${f2(f.mixedUpDownMin)} (${f.mixedUpAllowedMin !== undefined ? f2(f.mixedUpAllowedMin) : '—'} ≥0.8)` : '—',
      pct(f.cascadeFromLt),
      slowTarget(f, all),
      `${f.complete}/${f.n}`,
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows) console.log(line(r));
  console.log('\nCPU-s of a downloader (mean) by its first output line (start-up) / by its completion / at its stop:');
  for (const f of all) {
    const by = (c: 'cascade' | 'lt', end: number | undefined) => (f.cpuAtReady?.[c] === undefined ? '' : ` ${c === 'lt' ? 'lt' : 'C'} ${f2(f.cpuAtReady[c])}/${f2(f.cpuAtDone?.[c])}/${f2(end)}`);
    const cells = by('cascade', f.cpuCascade) + by('lt', f.cpuLt);
    if (cells) console.log(`  ${f.scenario} N=${f.n} ${f.clients}${f.chain ? '' : ' no-chain'}:${cells}`);
  }
  console.log('\nEach downloader, by completion (s from the start; arrivals: from its own start) — client, upload cap MB/s, upload use, dup (client) / rx excess (wire):');
  for (const f of all) {
    const peers = [...f.peers].sort((a, b) => (a.done ?? Infinity) - (b.done ?? Infinity));
    const cells = peers.map((p) => `p${p.index} ${p.client === 'cascade' ? 'C' : 'lt'} ${(p.up / 1e6).toFixed(2)} ${f1(p.done)}s ${pct(p.upUse)} ${pct(p.dup, 1)}/${pct(p.rxExcess, 1)}${p.upPerDown !== undefined ? ` u÷d ${f2(p.upPerDown)}/${f2(p.upPerAllowed)}` : ''}${p.verified ? '' : ' BAD'}${p.stalls ? ` stall ${f1(p.longestStall)}s` : ''}`);
    console.log(`  ${f.scenario} N=${f.n} ${f.clients}${f.chain ? '' : ' no-chain'}: ${cells.join(' · ')}`);
    for (const e of f.errors) console.log(`    ! ${e.split('\n')[0]!.slice(0, 300)}`);
  }
}
