// CPU seconds and context switches of lab processes, read from /proc while they run: what bench/nat
// prints per side of a transfer and, with --threads, per thread.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system, every thread) of the process group `pgid`: a lab process and whatever
 *  it started (lab.spawn makes each its own group), read from /proc while it runs. */
export function groupCpu(pgid: number | undefined): number {
  if (!pgid) return 0;
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) sum += (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
    } catch {
      // exited while we looked
    }
  }
  return sum;
}
/** CPU seconds and context switches (voluntary + involuntary) of each thread, by name (node's main
 *  thread, libuv's pool, libdatachannel's…), of the process group `pgid`. */
export function groupThreads(pgid: number | undefined, byTid = false): Map<string, { cpu: number; cs: number }> {
  const out = new Map<string, { cpu: number; cs: number }>();
  if (!pgid) return out;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      for (const tid of readdirSync(`/proc/${d}/task`)) {
        const t = readFileSync(`/proc/${d}/task/${tid}/stat`, 'utf8');
        const name = byTid ? `${t.slice(t.indexOf('(') + 1, t.lastIndexOf(')'))}/${tid}` : t.slice(t.indexOf('(') + 1, t.lastIndexOf(')')).replace(/[\d-]+$/, '');
        const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
        const status = readFileSync(`/proc/${d}/task/${tid}/status`, 'utf8');
        const cs = [...status.matchAll(/ctxt_switches:\s+(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
        const was = out.get(name) ?? { cpu: 0, cs: 0 };
        out.set(name, { cpu: was.cpu + (Number(f[11]) + Number(f[12])) / 100, cs: was.cs + cs });
      }
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** CPU seconds of the sending and the receiving side between `start()` and `stop()`; the receiver
 *  is started inside the window in every case (its whole life counts: start-up included). With
 *  --threads, each side's CPU-s/GiB by thread name is printed at stop(). */
export function cpuWindow(up: () => number | undefined, down: () => number | undefined, relay: number | undefined, opts: { threads: boolean; mib: number; perGiB: (cpuSeconds: number) => string }) {
  const { threads, mib, perGiB } = opts;
  let u0 = 0;
  let t0 = new Map<string, { cpu: number; cs: number }>();
  let r0 = new Map<string, { cpu: number; cs: number }>();
  return {
    start() {
      u0 = groupCpu(up());
      if (threads) t0 = groupThreads(up());
      if (threads && relay) r0 = groupThreads(relay, true); // coturn's threads are all 'turnserver'
    },
    stop() {
      if (threads) {
        // Context switches per MiB beside each thread's CPU: a thread that sleeps and wakes per packet
        // (a contended lock, a queue handed between threads) pays for it in the scheduler.
        const show = (m: Map<string, { cpu: number; cs: number }>, before: Map<string, { cpu: number; cs: number }>) =>
          [...m].map(([k, v]) => [k, v.cpu - (before.get(k)?.cpu ?? 0), v.cs - (before.get(k)?.cs ?? 0)] as const).filter(([, v]) => v > 0.005).sort((a, b) => b[1] - a[1])
            .map(([k, v, cs]) => `${k} ${perGiB(v)} (${(cs / mib).toFixed(0)} cs/MiB)`).join(', ');
        console.log(`    threads, CPU-s/GiB (context switches per MiB): sender ${show(groupThreads(up()), t0)}\n                       receiver ${show(groupThreads(down()), new Map())}`);
        if (relay) console.log(`                       coturn ${show(groupThreads(relay, true), r0)}`);
      }
      return { up: groupCpu(up()) - u0, down: groupCpu(down()) };
    },
  };
}
