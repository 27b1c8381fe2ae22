// Where an idle node with N seeded torrents spends its CPU: adds N torrents through the API as
// bench/scale does, waits, then records a V8 CPU profile of the node's main thread over an idle
// window through the inspector (SIGUSR1), and prints the heaviest functions (self time).
//   node bench/scale/idle-profile.ts [--torrents 10000] [--settle 5] [--seconds 20] [--profile-seconds S] [--out profile.cpuprofile]
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeTorrents } from './torrents.ts';
import { addTorrent, startNode, stopNode } from './cascade-node.ts';
import { cpuSecondsOf, pool, sleep } from './proc.ts';

/** CPU ticks of each thread of `pid`, by thread name and id. */
function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${name}#${tid}`, Number(f[11]) + Number(f[12]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

const { values } = parseArgs({ options: { torrents: { type: 'string', default: '10000' }, settle: { type: 'string', default: '5' }, seconds: { type: 'string', default: '20' }, 'profile-seconds': { type: 'string' }, out: { type: 'string' } } });
const n = Number(values.torrents);
const work = mkdtempSync(join(tmpdir(), 'cascade-idle-profile-'));
const root = join(import.meta.dirname, '../..');
const torrents = makeTorrents(n, join(work, 'data'), join(work, 'torrents'));
const node = await startNode({ root, stateDir: join(work, 'state'), downloadDir: join(work, 'dl'), logPath: join(work, 'log') });
try {
  await node.serving;
  await pool(n, 4, async (i) => addTorrent(node, torrents[i]!.bytes, join(work, 'data'), torrents[i]!.name.replace(/\.bin$/, '.torrent')));
  console.log(`added ${n}; settling ${values.settle} s`);
  await sleep(Number(values.settle) * 1000);
  const t0 = threadTicks(node.pid);
  // Second by second: a spike (a sweep, a flush, a major GC) shows as one heavy second.
  const perSecond: number[] = [];
  let last = cpuSecondsOf(node.pid);
  for (let i = 0; i < Number(values.seconds); i++) {
    await sleep(1000);
    const c = cpuSecondsOf(node.pid);
    perSecond.push(Math.round((c - last) * 100));
    last = c;
  }
  const t1 = threadTicks(node.pid);
  console.log(`process CPU each second (% of a core): ${perSecond.join(' ')}`);
  console.log(`threads over ${values.seconds} s without the profiler (% of a core):`);
  for (const [k, v] of [...t1].map(([k, v]) => [k, v - (t0.get(k) ?? 0)] as const).filter(([, d]) => d > 0).sort((a, b) => b[1] - a[1])) {
    console.log(`  ${((v / Number(values.seconds))).toFixed(2).padStart(6)}%  ${k}`);
  }
  process.kill(node.pid, 'SIGUSR1');
  await sleep(500);
  const { WebSocket } = globalThis as unknown as { WebSocket: typeof globalThis.WebSocket };
  const list = (await (await fetch('http://127.0.0.1:9229/json/list')).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
  await new Promise((r) => ws.addEventListener('open', r, { once: true }));
  let id = 0;
  const pending = new Map<number, (v: any) => void>();
  ws.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data));
    pending.get(m.id)?.(m.result);
  });
  const call = (method: string, params: object = {}) => new Promise<any>((r) => { pending.set(++id, r); ws.send(JSON.stringify({ id, method, params })); });
  const mem = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
  const m = JSON.parse(mem.result.value) as Record<string, number>;
  console.log(`memory (MB): ${Object.entries(m).map(([k, v]) => `${k} ${(v / 1e6).toFixed(0)}`).join(', ')}`);
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 500 });
  const cpu0 = cpuSecondsOf(node.pid);
  await call('Profiler.start');
  const profileSeconds = Number(values['profile-seconds'] ?? values.seconds);
  await sleep(profileSeconds * 1000);
  const { profile } = await call('Profiler.stop');
  const cpu = cpuSecondsOf(node.pid) - cpu0;
  ws.close();
  console.log(`profiled ${profileSeconds} s: process CPU ${((cpu / profileSeconds) * 100).toFixed(2)}% of a core (all threads, the profiler's cost included)`);
  if (values.out) writeFileSync(values.out, JSON.stringify(profile));
  const self = new Map<string, number>();
  const byId = new Map<number, any>(profile.nodes.map((x: any) => [x.id, x]));
  profile.samples.forEach((s: number, i: number) => {
    const f = byId.get(s).callFrame;
    const k = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(k, (self.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
} finally {
  await stopNode(node);
  rmSync(work, { recursive: true, force: true });
}
