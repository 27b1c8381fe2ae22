// The heaviest functions (self time) over V8 CPU profiles, summed: the swarm lab's peers'
// (SWARM_LAB_PROFILE=DIR) or any other. Also by file, so a layer's share shows at a glance.
//   node bench/swarm-lab/profile-top.ts DIR|FILE... [--top 40] [--from S] [--to S]
// --from/--to: only samples in that window of each profile (s from its start: a start's cost apart
// from a transfer's). Times are the sampler's wall clock: with more busy processes than cores they
// include waiting for a core, so read shares, and the lab's CPU-s for amounts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, from: { type: 'string', default: '0' }, to: { type: 'string', default: 'Infinity' } } });
const files = positionals.flatMap((p) => statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p]);
const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
const from = Number(values.from) * 1e6;
const to = Number(values.to) * 1e6;
for (const f of files) {
  const prof = JSON.parse(readFileSync(f, 'utf8')) as Profile;
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  // Time per sample from the deltas (the sampling interval drifts under load).
  let at = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    at += prof.timeDeltas[i]!;
    if (at < from || at >= to) continue;
    const n = nodes.get(prof.samples[i]!)!;
    const us = prof.timeDeltas[i + 1] ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url.replace(/^.*\/(packages|node_modules)\//, '$1/') || '(native)';
    if (functionName === '(idle)') continue;
    total += us;
    const key = `${functionName || '(anonymous)'}  ${file}:${lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
}
const top = Number(values.top);
const show = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top)
  .map(([k, us]) => `${(us / 1e6).toFixed(2).padStart(7)} s ${(100 * us / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
console.log(`${files.length} profiles, ${(total / 1e6).toFixed(1)} s on the main threads (idle left out)\n\nby function (self):\n${show(byFn)}\n\nby file (self):\n${show(byFile)}`);
