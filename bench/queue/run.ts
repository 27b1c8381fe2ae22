// Queue benchmark (issue 20): what the queue manager costs at a big library. A real state DB with N
// torrents and a stand-in engine session (the queue only reads stats and calls pause/resume), then:
//   plan      one full plan (every row read, every torrent's stats, the decision, statuses written)
//   tick      the one timer's pass, with every torrent seeding and no seeding goal (the idle case),
//             and with a global ratio limit in force (every seed looked at each second)
//   move      one torrent to the top of the queue (positions rewritten in one transaction)
// Run: npm run bench:queue -- [--torrents 10000] [--rounds 20]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { StateDB } from '@cascade/node-state';
import { silentLog } from '../../packages/node/src/core/node.ts';
import { QueueManager, type QueueSettings } from '../../packages/node/src/queue/manager.ts';
import { FakeTorrent, fakeSession } from '../../packages/node/test/helpers.ts';
import { defaultSettings } from '../../packages/node/src/model/settings.ts';

const { values: argv } = parseArgs({ options: { torrents: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '20' } } });
const N = Number(argv.torrents);
const ROUNDS = Number(argv.rounds);

const dir = mkdtempSync(join(tmpdir(), 'cascade-bench-queue-'));
const db = await StateDB.open(dir);
const torrents: FakeTorrent[] = [];
for (let i = 0; i < N; i++) {
  const ih = i.toString(16).padStart(40, '0');
  const t = new FakeTorrent(ih, `t${i}`);
  t.state = 'seeding';
  t.progress = 1;
  torrents.push(t);
  await db.records.add({ infoHash: ih, source: ih, savePath: '/d', status: 'seeding' });
}
const settings: QueueSettings = { ...defaultSettings(dir), maxActiveUploads: 0 };
const queue = new QueueManager(
  {
    session: fakeSession(torrents).session,
    db,
    out: silentLog,
    settings: () => settings,
    setAltSpeedEnabled: () => {},
    remove: async () => {},
    changed: () => {},
    pendingTotals: () => undefined,
  },
  { tickMs: 3_600_000 },
);

/** Wall time and this process's CPU time (the machine may be shared: CPU time is the steadier figure). */
async function time(label: string, fn: () => Promise<void> | void): Promise<void> {
  await fn(); // warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    wall.push(performance.now() - t0);
    cpu.push((c.user + c.system) / 1000);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${label.padEnd(32)} median ${median(cpu).toFixed(2)} ms CPU, ${median(wall).toFixed(2)} ms wall`);
}

console.log(`${N} torrents, all seeding; ${ROUNDS} rounds each`);
await time('plan (apply)', () => queue.apply());
await time('tick, no goal (idle)', () => queue.tick());
settings.ratioLimit = 2;
await time('tick, a global ratio limit', () => queue.tick());
settings.ratioLimit = null;
torrents.forEach((t, i) => {
  if (i % 2 === 0) (t.state = 'paused'), (t.progress = 0.5);
});
// The paused half queued in the state, as a node stopped with them waiting would have left them.
await Promise.all(torrents.filter((_, i) => i % 2 === 0).map((t) => db.records.setStatus(t.infoHashHex, 'queued')));
await queue.apply();
const last = torrents[torrents.length - 2]!.infoHashHex;
await time('move one download to the top', async () => void (await queue.move([last], 'top')));

queue.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
