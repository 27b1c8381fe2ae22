// GET /metrics at scale (issue 21): one node (in this process, DHT off) holding N seeding 4 KiB
// torrents, added straight to the node (data in place). Prints the time of one scrape (median and
// worst of 20), its size, and the process' CPU over an idle stretch with no scrape, then with a
// scrape every second (what a Prometheus at 1 s costs), with the load average (the machine is shared).
// Run: node bench/metrics/run.ts [--torrents 10000] [--idle-seconds 10]

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bencode } from '../../packages/engine/index.ts';
import { startServer } from '../../packages/http/index.ts';
import { testServerOptions } from '../../packages/http/test/server-helpers.ts';

const { values: argv } = parseArgs({ options: { torrents: { type: 'string', default: '10000' }, 'idle-seconds': { type: 'string', default: '10' } } });
const N = Number(argv.torrents);
const IDLE_S = Number(argv['idle-seconds']);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const root = mkdtempSync(join(tmpdir(), 'cascade-bench-metrics-'));
const server = await startServer({ ...testServerOptions(root), trackerPorts: false });
try {
  const dir = join(root, 'data');
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const data = randomBytes(4096);
    const name = `m-${i}.bin`;
    writeFileSync(join(dir, name), data);
    const torrent = bencode({ info: { length: 4096, name, 'piece length': 16384, pieces: createHash('sha1').update(data).digest() } });
    await server.node.add(torrent, { savePath: dir });
  }
  while (server.node.session.list().some((t) => t.stats().state !== 'seeding')) await sleep(500);
  console.log(`${N} torrents seeding after ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  const scrape = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.token}` } });
    if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
    return res.text();
  };
  const cpuOver = async (seconds: number, every?: number) => {
    const c0 = process.cpuUsage();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      if (every) await scrape();
      await sleep(every ?? 250);
    }
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) / 1e3 / seconds).toFixed(1);
  };
  await sleep(3000); // the adds' after-effects (resume saves, the queue) settle
  console.log(`idle, never scraped: ${await cpuOver(IDLE_S)} ms CPU per second (load ${load()})`);
  const first = await scrape();
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await scrape();
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  console.log(`scrape: median ${times[10]!.toFixed(1)} ms, worst ${times[19]!.toFixed(1)} ms, ${first.length} bytes (load ${load()})`);
  console.log(`idle after scrapes (event-loop monitor on): ${await cpuOver(IDLE_S)} ms CPU per second (load ${load()})`);
  console.log(`scraped every second: ${await cpuOver(IDLE_S, 1000)} ms CPU per second (load ${load()})`);
} finally {
  await server.close();
  rmSync(root, { recursive: true, force: true });
}
