// Imported into every test file's process by scripts/test.ts. When a file's main thread stops
// turning (a native deadlock: libdatachannel has had them on close), no timer can fire, so neither
// the test's own timeouts nor --test-timeout end it and the file hangs until CI's 90-minute limit
// (it happened once to packages/engine/test/webrtc-rejoin.test.ts). A worker thread, which runs on
// while the main thread is stuck, watches a heartbeat the main thread bumps every second; after
// CASCADE_TEST_HUNG_MS without one it names the file in CASCADE_TEST_HUNG_LIST, says so on stderr and
// kills the process. scripts/test.ts then runs such files once more and says it did.
import { Worker } from 'node:worker_threads';
import { writeSync } from 'node:fs';

const hungMs = Number(process.env['CASCADE_TEST_HUNG_MS'] ?? 240_000);
const list = process.env['CASCADE_TEST_HUNG_LIST'];
const beat = new Int32Array(new SharedArrayBuffer(4));
setInterval(() => Atomics.add(beat, 0, 1), 1000).unref();

const watcher = `
const { workerData } = require('node:worker_threads');
const { appendFileSync, writeSync } = require('node:fs');
const { beat, hungMs, list, file } = workerData;
let last = Atomics.load(beat, 0);
let since = Date.now();
setInterval(() => {
  const now = Atomics.load(beat, 0);
  if (now !== last) { last = now; since = Date.now(); return; }
  if (Date.now() - since < hungMs) return;
  writeSync(2, '\\n' + file + ': the event loop has not turned for ' + Math.round((Date.now() - since) / 1000) + ' s (a native deadlock, or JavaScript that never yields: a loop, or assert diffing two large values): killing this test file\\n');
  if (list) appendFileSync(list, file + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, Math.min(5000, hungMs / 4));
`;
new Worker(watcher, { eval: true, workerData: { beat, hungMs, list, file: process.argv[1] ?? '?' } }).unref();

// A file that runs past the pool's limit (scripts/test-pool.ts fileLimitMs) is sent SIGUSR2 before it
// is killed: what still holds its loop (servers, sockets and their ends, timers) goes to stderr, so
// a hang says where it is.
// (SIGUSR2 is also Node's report signal: no report file lands in the working tree.)
process.report.reportOnSignal = false;
process.on('SIGUSR2', () => {
  const report = process.report.getReport() as unknown as { libuv?: { type: string; is_active?: boolean; is_referenced?: boolean; localEndpoint?: unknown; remoteEndpoint?: unknown }[] };
  const handles = (report.libuv ?? []).filter((h) => h.is_active).map((h) =>
    `${h.type}${h.is_referenced === false ? ' (unref)' : ''}${h.localEndpoint ? ` ${JSON.stringify(h.localEndpoint)}` : ''}${h.remoteEndpoint ? ` -> ${JSON.stringify(h.remoteEndpoint)}` : ''}`);
  writeSync(2, `\n${process.argv[1] ?? '?'} (pid ${process.pid}) is held by: ${process.getActiveResourcesInfo().join(', ')}\n  ${handles.join('\n  ')}\n`);
});

// The run's wall time per file (scripts/test.ts prints the slowest at the end): from this process's
// start to its exit, which is what the file costs the run, fixtures and all.
const times = process.env['CASCADE_TEST_TIMES'];
if (times) {
  const { appendFileSync } = await import('node:fs');
  const { readFileSync } = await import('node:fs');
  // CPU as well as wall: this process's own, and its children's that have ended (the `cascade`
  // processes, browsers and real clients it started), from /proc (clock ticks of 10 ms).
  const childrenCpuMs = () => {
    try {
      const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
      return (Number(fields[13]) + Number(fields[14])) * 10;
    } catch {
      return 0;
    }
  };
  process.on('exit', () => {
    const own = process.cpuUsage();
    const cpu = Math.round((own.user + own.system) / 1000 + childrenCpuMs());
    appendFileSync(times, `${Math.round(process.uptime() * 1000)}\t${process.argv[1] ?? '?'}\t${cpu}\n`);
  });
}
