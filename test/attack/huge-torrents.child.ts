// Run by huge-torrents.test.ts in a child process of its own, so the memory it reports belongs to
// one add (or one library reload) and nothing else: node --expose-gc huge-torrents.child.ts
//   add <stateDir> <torrentFile>   start a server, then add the .torrent over the API
//   reload <stateDir>              start a server on that state (its library loads)
// Prints one JSON line. peakMiB: the process's maximum RSS minus its RSS just before the step (V8
// keeps the pages of a peak, so this is also what the process holds afterwards); heapMiB: live
// JS heap after the step and a full GC, minus the same before.
import { readFileSync } from 'node:fs';
import { startServer } from '../../packages/http/index.ts';

const MiB = 1024 * 1024;
const [mode, stateDir, torrentFile] = process.argv.slice(2) as [string, string, string | undefined];
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function settle(): { rss: number; heap: number } {
  gc();
  gc();
  return { rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed };
}
// VmHWM, not getrusage's maxRSS: that one carries over the parent's RSS at fork across exec.
const maxRss = () => Number(/VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const round = (n: number) => Math.round(n * 10) / 10;

const opts = {
  stateDir,
  host: '127.0.0.1',
  httpPort: 0,
  btPort: 0,
  btHost: '127.0.0.1',
  iceServers: [],
  dht: false as const,
  trackerPorts: false as const,
  webRoot: '/nonexistent',
};

let server: Awaited<ReturnType<typeof startServer>>;
let before: { rss: number; heap: number };
let answer: Record<string, unknown>;
const started = Date.now();
if (mode === 'add') {
  server = await startServer(opts);
  await server.ready;
  const body = new FormData();
  body.append('torrent', new Blob([readFileSync(torrentFile!)]), 'huge.torrent');
  before = settle();
  const res = await fetch(`${server.url}/api/torrents`, { method: 'POST', body, headers: { authorization: `Bearer ${server.token}` } });
  answer = { status: res.status, ...((await res.json()) as object) };
} else {
  before = settle();
  server = await startServer(opts);
  answer = { loaded: await server.ready };
}
const ms = Date.now() - started;
const peak = maxRss();
// The torrent runs a moment (stats, resume save) before the live heap is taken, and until it has
// settled: on a loaded machine 1.5 s was not always enough to take in 100,000 files ('metadata').
const settling = (st: string) => st === 'metadata' || st === 'checking';
const until = Date.now() + 60_000;
await new Promise((r) => setTimeout(r, 1500));
while (Date.now() < until && server.node.session.list().some((t) => settling(t.stats().state))) await new Promise((r) => setTimeout(r, 100));
const states = server.node.session.list().map((t) => t.stats().state);
const after = settle();
console.log(JSON.stringify({ ...answer, states, ms, peakMiB: round((peak - before.rss) / MiB), heapMiB: round((after.heap - before.heap) / MiB) }));
await server.close();
