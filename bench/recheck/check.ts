// One variant of bench/recheck: a Session that adds every .torrent in DIR with its data there and
// waits until each is seeding. Prints one JSON line: wall ms, peak RSS (VmHWM), CPU-s.
// Run by run.ts in a process of its own, so each variant's peak is its own.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Session } from '../../packages/engine/index.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, limit: { type: 'string', default: '1' } } });
const dir = values.dir!;
const files = readdirSync(join(dir, 'torrents')).filter((f) => f.endsWith('.torrent')).sort();
const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, lsd: false, maxActiveChecks: Number(values.limit) });
const cpu0 = process.cpuUsage();
const started = performance.now();
const handles = await Promise.all(files.map((f) => session.add(readFileSync(join(dir, 'torrents', f)), { savePath: join(dir, 'data') })));
await Promise.all(handles.map((h) => new Promise<void>((resolve, reject) => {
  if (h.stats().state === 'seeding') return resolve();
  h.once('done', () => resolve());
  h.once('error', reject);
})));
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const complete = handles.filter((h) => h.stats().progress === 1).length;
await session.close();
console.log(JSON.stringify({ ms, peakRss: hwm, cpuS: (cpu.user + cpu.system) / 1e6, complete }));
