// CPU accounting for the browser benches: the Chromium processes are this process's descendants.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) of every live process descended from this one: the Chromiums. */
export function childrenCpuSeconds(): number {
  const tck = 100; // USER_HZ on Linux
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      cpu.set(Number(d), (Number(f[11]) + Number(f[12])) / tck);
    } catch {
      // exited while we looked
    }
  }
  let sum = 0;
  for (const [pid, s] of cpu) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === process.pid) {
        sum += s;
        break;
      }
    }
  }
  return sum;
}

/** This process's descendants. */
function descendants(): { pids: number[]; parent: Map<number, number> } {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === process.pid) {
        out.push(pid);
        break;
      }
    }
  }
  return { pids: out, parent };
}

/** CPU seconds of every thread of the descendant Chromiums, keyed `browser/process type/thread
 *  name` (the browsers numbered in the order they started: 0/renderer/CrRendererMain…): where a
 *  transfer's CPU goes. */
export function threadCpuSeconds(): Map<string, number> {
  const out = new Map<string, number>();
  const { pids, parent } = descendants();
  const cmds = new Map<number, string>();
  for (const pid of pids) {
    try {
      cmds.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      // exited
    }
  }
  const isBrowser = (pid: number) => !!cmds.get(pid)?.includes('chrom') && !cmds.get(pid)!.includes('--type=');
  const browsers = pids.filter(isBrowser).sort((a, b) => a - b);
  for (const pid of pids) {
    let type = 'other';
    try {
      const cmd = cmds.get(pid) ?? '';
      if (!cmd.includes('chrom')) continue;
      let top = pid;
      while (!isBrowser(top) && parent.get(top) !== undefined && parent.get(top)! > 1) top = parent.get(top)!;
      const which = browsers.indexOf(top);
      type = `${which}/${/--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser'}`;
      if (type.endsWith('/utility')) type = `${which}/${/--utility-sub-type=([\w.]+)/.exec(cmd)?.[1]?.split('.').pop() ?? 'utility'}`;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const key = `${type}/${name}`;
        out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
      }
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The difference of two threadCpuSeconds() snapshots as lines of CPU-ms/MiB, largest first. */
export function threadReport(before: Map<string, number>, after: Map<string, number>, mib: number, top = 12): string {
  const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  return rows.slice(0, top).map(([k, v]) => `      ${((v * 1000) / mib).toFixed(1).padStart(6)} CPU-ms/MiB  ${k}`).join('\n');
}
