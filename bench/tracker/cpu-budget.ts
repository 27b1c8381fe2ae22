// An equal CPU budget for every tracker (BENCH_CPU_QUOTA, a fraction of one core): each tracker's
// process, all its threads, goes into its own cgroup whose CFS quota is that fraction. Without it a
// round's rate is whatever share of core 1 the rest of a shared machine left that tracker in that
// 10 s, and single rounds swing 0.7–2× between trackers of nearly the same cost. Held to the same
// budget, a tracker that needs less CPU per announce answers more announces, round after round:
// the rate then compares the trackers, not the minutes they ran in. It only binds while the
// machine leaves each tracker that much of its core: the group holding the generator and the
// trackers therefore weighs 8× an ordinary group against the rest of the machine. The quota bounds
// what that weight can take (half of core 1, and the generator's share of core 0).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuBudget {
  /** Moves a tracker's process (every thread it has and will have) under the budget. */
  place(pid: number, name: string): void;
  /** Throttled periods of each placed tracker so far: a tracker never throttled ran under its budget. */
  throttled(name: string): number;
  readonly describe: string;
  close(): void;
}

const PERIOD_US = 100_000;

interface Layout {
  root: string;
  setQuota(dir: string, quotaUs: number): void;
  setHeavy(dir: string): void;
  throttledOf(dir: string): number;
}

const v1: Layout = {
  root: '/sys/fs/cgroup/cpu',
  setQuota(dir, quotaUs) {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
  },
  setHeavy: (dir) => writeFileSync(join(dir, 'cpu.shares'), String(8 * 1024)),
  throttledOf: (dir) => statField(join(dir, 'cpu.stat'), 'nr_throttled'),
};

const v2: Layout = {
  root: '/sys/fs/cgroup',
  setQuota(dir, quotaUs) {
    writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
  },
  setHeavy: (dir) => writeFileSync(join(dir, 'cpu.weight'), String(8 * 100)),
  throttledOf: (dir) => statField(join(dir, 'cpu.stat'), 'nr_throttled'),
};

function statField(file: string, field: string): number {
  try {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${field} `));
    return line ? Number(line.split(' ')[1]) : NaN;
  } catch {
    return NaN;
  }
}

function layout(): Layout | undefined {
  if (existsSync(join(v1.root, 'cpu.cfs_quota_us'))) return v1;
  try {
    if (readFileSync(join(v2.root, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) return v2;
  } catch {
    // no cgroup v2 root here
  }
  return undefined;
}

/** undefined when the fraction is 0 or this machine gives no writable cpu controller (not root, no cgroups). */
export function cpuBudget(fraction: number): CpuBudget | undefined {
  if (!(fraction > 0)) return undefined;
  const l = layout();
  if (!l) return undefined;
  const base = join(l.root, `cascade-bench-tracker-${process.pid}`);
  const generator = join(base, 'generator');
  try {
    mkdirSync(base);
    if (l === v2) writeFileSync(join(base, 'cgroup.subtree_control'), '+cpu');
    l.setHeavy(base);
    // The generator is this process (loadgen.ts runs in it); the trackers it spawns start here
    // too and move to their own groups.
    mkdirSync(generator);
    writeFileSync(join(generator, 'cgroup.procs'), String(process.pid));
  } catch {
    return undefined;
  }
  const quotaUs = Math.round(fraction * PERIOD_US);
  const dirs = new Map<string, string>();
  return {
    describe: `each tracker held to ${fraction} of a core (a ${quotaUs / 1000} ms CFS quota per ${PERIOD_US / 1000} ms, its own cgroup), generator and trackers weighing 8× an ordinary group`,
    place(pid, name) {
      const dir = join(base, name.replace(/[^a-z0-9-]/gi, '_'));
      mkdirSync(dir, { recursive: true });
      l.setQuota(dir, quotaUs);
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
      dirs.set(name, dir);
    },
    throttled: (name) => {
      const dir = dirs.get(name);
      return dir ? l.throttledOf(dir) : NaN;
    },
    close() {
      // Back to the root group, so that the benchmark's groups can go.
      try {
        writeFileSync(join(l.root, 'cgroup.procs'), String(process.pid));
      } catch {
        // stays; the group is then left behind
      }
      // A cgroup is removed once empty; the trackers have exited by now. Anything left (a process
      // that outlived its stop) keeps its group, which the next run does not reuse.
      for (const dir of [...dirs.values(), generator, base]) {
        try {
          rmdirSync(dir);
        } catch {
          // still busy
        }
      }
    },
  };
}
