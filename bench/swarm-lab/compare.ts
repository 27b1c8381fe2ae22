// Two sittings of the lab side by side: `--json` files of a "before" and an "after" run (several of
// each may be given, e.g. `--scenario all` and `--scenario many`), one markdown row per swarm
// (scenario, N, clients) with each figure as before → after.
//   node bench/swarm-lab/compare.ts --before a.json[,b.json] --after c.json[,d.json]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Figures } from './metrics.ts';
import { f1, f2, pct, swarmLabel } from './table.ts';

const { values } = parseArgs({ options: { before: { type: 'string' }, after: { type: 'string' } } });
if (!values.before || !values.after) {
  console.error('usage: node bench/swarm-lab/compare.ts --before a.json[,b.json] --after c.json[,d.json]');
  process.exit(2);
}
const load = (list: string): Figures[] => list.split(',').flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as Figures[]);
const key = (f: Figures): string => `${f.scenario}|${f.n}|${swarmLabel(f)}`;
const before = new Map(load(values.before).map((f) => [key(f), f]));
const after = load(values.after);

// A figure JSON could not hold (NaN, Infinity) was written as null: shown as missing.
const finite = (v: number | null | undefined): number | undefined => (v != null && Number.isFinite(v) ? v : undefined);
const num = (v: number | undefined, digits: 1 | 2 = 1): string => (digits === 1 ? f1 : f2)(finite(v));
// A swarm missing from the before files (e.g. libtorrent-only rows, the same software both times) shows its after figure alone.
const pair = (b: string, a: string): string => (b === a || b === '—' ? a : `${b} → ${a}`);
const ratio = (f: Figures | undefined): number | undefined => (f?.makespan === undefined ? undefined : f.makespan / f.tStar);
const cpu = (f: Figures | undefined): string => {
  if (!f) return '—';
  const c = f.cpuCascade, l = f.cpuLt;
  return c !== undefined && l !== undefined ? `${num(c)}/${num(l)}` : num(c ?? l);
};
const copies = (f: Figures | undefined): string => (f?.seedCopies === undefined ? '—' : `${f.seedCopiesBound ? '≤' : ''}${num(f.seedCopies, 2)}`);
const upUse = (f: Figures | undefined): string => (f ? `${pct(finite(f.upUseMean))}/${pct(finite(f.upUseMin))}` : '—');
const stalls = (f: Figures | undefined): string => (f ? `${f.stalls} (${num(f.longestStall)})` : '—');
const complete = (f: Figures | undefined): string => (f ? `${f.complete}/${f.n}` : '—');
// Mixed swarms: Cascade's mean completion ÷ libtorrent's, and the least Cascade upload ÷ download (÷ what its cap allowed).
const mixed = (f: Figures | undefined): string => (f?.mixedRatio === undefined ? '—' : num(f.mixedRatio, 2));
const give = (f: Figures | undefined): string =>
  f?.mixedUpDownMin === undefined ? '—' : `${num(f.mixedUpDownMin, 2)} (${num(f.mixedUpAllowedMin, 2)})`;
const others = (f: Figures | undefined): string => num(f?.othersMakespan);

console.log('| scenario | N | clients | T* s | makespan s | ÷T* | mean s | seed copies | up use mean/min | dup max | CPU-s per downloader (C/lt) | stalls (longest s) | mixed C/lt mean | mixed C up÷down (÷ cap-allowed) | slow: others s | done |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const a of after) {
  const b = before.get(key(a));
  console.log(`| ${a.scenario} | ${a.n} | ${swarmLabel(a)} | ${num(a.tStar)} | ${pair(num(b?.makespan), num(a.makespan))} | ${pair(num(ratio(b), 2), num(ratio(a), 2))} | ${pair(num(b?.mean), num(a.mean))} | ${pair(copies(b), copies(a))} | ${pair(upUse(b), upUse(a))} | ${pair(pct(finite(b?.dupMax), 1), pct(finite(a.dupMax), 1))} | ${pair(cpu(b), cpu(a))} | ${pair(stalls(b), stalls(a))} | ${pair(mixed(b), mixed(a))} | ${pair(give(b), give(a))} | ${pair(others(b), others(a))} | ${pair(complete(b), complete(a))} |`);
}
