// npm run bench:swarm-lab [-- --scenario flash,arrivals,slow,late,leaves,many|all] [--n 8,16,32] [--size 64MiB]
//   [--clients lt,cascade,mixed] [--no-chain-runs flash|all|none] [--late S] [--gap S] [--torrents K] [--many-queue default|off]
//   [--quick] [--json FILE]
// As root. Each scenario × client mix runs one swarm in the lab (lab.ts, swarm.ts) and prints one row of
// figures with issue 60's targets beside them; see README.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removeOnExit, requireLabTools } from './lab.ts';
import { figures, type Figures } from './metrics.ts';
import { heterogeneousUps, makeData, runSwarm, type ClientMix, type Data, type SwarmSpec } from './swarm.ts';
import { printTable } from './table.ts';
import { makeManyData, manyFigures, printMany, runMany, type ManyFigures } from './many.ts';

const SCENARIOS = ['flash', 'arrivals', 'slow', 'late', 'leaves', 'many'] as const;
type Scenario = (typeof SCENARIOS)[number];
const MB = 1e6;

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m|g|kib|mib|gib|kb|mb|gb)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  const u = (m[2] ?? 'mib').toLowerCase();
  const mult = u.startsWith('k') ? 1024 : u.startsWith('g') ? 2 ** 30 : 2 ** 20;
  return Math.round(Number(m[1]) * mult);
}

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    n: { type: 'string' },
    size: { type: 'string' },
    clients: { type: 'string', default: 'lt,cascade,mixed' },
    'no-chain-runs': { type: 'string', default: 'flash' },
    late: { type: 'string' },
    gap: { type: 'string' },
    torrents: { type: 'string' },
    'many-queue': { type: 'string', default: 'default' },
    quick: { type: 'boolean', default: false },
    sample: { type: 'string', default: '250' },
    'tracker-interval': { type: 'string', default: '60' },
    'mixed-seed': { type: 'string', default: 'lt' },
    'super-seed': { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run bench:swarm-lab -- [--scenario flash,arrivals,slow,late,leaves,many|all] [--n 8,16,32] [--size 64MiB]\n' +
    '  [--clients lt,cascade,mixed] [--no-chain-runs flash|all|none] [--late S] [--gap S] [--torrents K] [--many-queue default|off] [--super-seed] [--quick] [--json FILE]\n' +
    '  (all = every scenario but many; many: K torrents, default 20 × 8 MiB, N 8)\n(see bench/swarm-lab/README.md)');
  process.exit(0);
}
requireLabTools();

const quick = values.quick;
const scenarios: Scenario[] = (values.scenario ?? 'flash') === 'all' ? SCENARIOS.filter((s) => s !== 'many') : (values.scenario ?? 'flash').split(',') as Scenario[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}: one of ${SCENARIOS.join(', ')}`);
const torrentCount = Number(values.torrents ?? (quick ? 4 : 20));
if (!['default', 'off'].includes(values['many-queue'])) throw new Error(`--many-queue takes default or off, not ${values['many-queue']}`);
if (!Number.isInteger(torrentCount) || torrentCount < 1 || torrentCount > 200) throw new Error(`--torrents takes 1…200, not ${values.torrents}`);
const mixes = values.clients.split(',') as ClientMix[];
const nList = values.n ? values.n.split(',').map(Number) : undefined;
const lateMs = Number(values.late ?? (quick ? 15 : 120)) * 1000;
const gapMs = Number(values.gap ?? (quick ? 2 : 4)) * 1000;

interface Plan { scenario: Scenario; n: number; size: number }
const plans: Plan[] = [];
for (const scenario of scenarios) {
  const ns = nList ?? (quick ? [4] : scenario === 'flash' ? [8, 16, 32] : [8]);
  for (const n of ns) {
    // many: --size is each torrent's (default 8 MiB; quick 4 MiB).
    const size = values.size ? parseSize(values.size) : scenario === 'many' ? (quick ? 4 : 8) * 2 ** 20 : quick ? 16 * 2 ** 20 : n >= 32 ? 32 * 2 ** 20 : 64 * 2 ** 20;
    plans.push({ scenario, n, size });
  }
}

const root = await mkdtemp(join(tmpdir(), 'swarm-lab-data-'));
removeOnExit(root);
const dataBySize = new Map<number, Data>();
const all: Figures[] = [];
const manyRows: ManyFigures[] = [];
const manyData = new Map<number, Data[]>();
const started = Date.now();
try {
  for (const plan of plans) {
    let data = plan.scenario === 'many' ? undefined : dataBySize.get(plan.size);
    if (!data && plan.scenario !== 'many') dataBySize.set(plan.size, (data = await makeData(root, plan.size)));
    const ups = heterogeneousUps(plan.n);
    const slowIndex = plan.scenario === 'slow' ? 1 : undefined;
    if (slowIndex) ups[slowIndex - 1] = 32_000;
    const runs: { clients: ClientMix; noChain: boolean }[] = mixes.map((clients) => ({ clients, noChain: false }));
    const noChainRuns = values['no-chain-runs'];
    if (mixes.includes('cascade') && (noChainRuns === 'all' || (noChainRuns === 'flash' && plan.scenario === 'flash'))) runs.push({ clients: 'cascade', noChain: true });
    for (const run of runs) {
      const spec: SwarmSpec = {
        scenario: plan.scenario,
        clients: run.clients,
        ups,
        seedUp: 4 * MB,
        down: 8 * MB,
        arrivalGapMs: plan.scenario === 'arrivals' ? gapMs : 0,
        leaveOnComplete: plan.scenario === 'arrivals',
        seedDelayMs: plan.scenario === 'late' ? lateMs : 0,
        seedLeaves: plan.scenario === 'leaves',
        noChain: run.noChain,
        superSeed: values['super-seed'],
        mixedSeed: values['mixed-seed'] === 'cascade' ? 'cascade' : 'lt',
        timeoutMs: 0,
        sampleMs: Number(values.sample),
        trackerInterval: Number(values['tracker-interval']),
      };
      const totalSize = plan.scenario === 'many' ? plan.size * torrentCount : plan.size;
      const est = Math.max(totalSize / spec.seedUp, (plan.n * totalSize) / (spec.seedUp + ups.reduce((a, b) => a + b, 0)));
      spec.timeoutMs = Math.round((120 + 6 * est) * 1000 + spec.seedDelayMs + plan.n * spec.arrivalGapMs);
      const label = `${plan.scenario} N=${plan.n}${plan.scenario === 'many' ? ` ${torrentCount} ×` : ''} ${(plan.size / 2 ** 20).toFixed(0)} MiB ${run.clients}${run.noChain ? ' --no-chain' : ''}${values['super-seed'] ? ' super-seed' : ''}`;
      console.error(`[swarm-lab] ${label}`);
      let f: Figures;
      if (plan.scenario === 'many') {
        let datas = manyData.get(plan.size);
        if (!datas) manyData.set(plan.size, (datas = await makeManyData(join(root, `many-${plan.size}`), torrentCount, plan.size)));
        const m = manyFigures(await runMany(spec, datas, (s) => console.error(`[swarm-lab]   ${s}`), values['many-queue'] !== 'off'));
        manyRows.push(m);
        f = m;
      } else {
        const r = await runSwarm(spec, data!, (s) => console.error(`[swarm-lab]   ${s}`));
        f = figures(r, slowIndex);
      }
      all.push(f);
      console.error(`[swarm-lab]   makespan ${f.makespan?.toFixed(1) ?? '—'} s, T* ${f.tStar.toFixed(1)} s, ${f.complete}/${plan.n} complete${f.errors.length ? `; ${f.errors.join('; ').slice(0, 600)}` : ''}`);
    }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
printTable(all);
printMany(manyRows);
console.log(`\n${all.length} swarms in ${((Date.now() - started) / 60_000).toFixed(1)} min; node ${process.version}; ${new Date().toISOString()}`);
if (values.json) await writeFile(values.json, JSON.stringify(all, null, 2));
process.exitCode = all.every((f) => f.complete === f.n) ? 0 : 1;
