// bench/web-list/browser.ts: the torrents page in Chromium against a real node holding N torrents
// (issue 25: "with 10,000 torrents the torrents view shows its first rows within 2 s of opening,
// keeps fewer than 500 torrent-row elements in the page whatever the scroll position, scrolls to the
// last torrent, answers search and sort within 300 ms"). Prints, for N torrents: time from opening
// the page to its first rows (a fresh load, median of 3), rows in the page at the top, middle and
// bottom, time to the last row after a jump to the end, and search and sort response times measured
// in the page (from the input event to the frame after the rows changed).
//
// Chromium must not reach past loopback (../../../shared/browser-webrtc.md): run it in a network
// namespace with only `lo` up (it refuses to run otherwise):
//   ip netns add wl && ip netns exec wl ip link set lo up
//   ip netns exec wl node_modules/.bin/node bench/web-list/browser.ts [--torrents 10000]; ip netns del wl
//
// The torrents are tiny single-piece .torrent files nobody has, added paused through POST
// /api/torrents (16 at a time), so the node's own work stays out of the page's figures.

import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import { bencode } from '@cascade/engine';
import { startServer } from '@cascade/http';
import { ensureWebBuilt } from '../../packages/web/index.ts';

const { values } = parseArgs({ options: { torrents: { type: 'string', default: '10000' }, parallel: { type: 'string', default: '16' } } });
const N = Number(values.torrents);
const PARALLEL = Number(values.parallel);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(PARALLEL) || PARALLEL < 1) throw new Error('--torrents and --parallel take positive integers');
const outside = Object.keys(networkInterfaces()).filter((i) => i !== 'lo');
if (outside.length > 0) {
  console.error(`refusing to run Chromium with network interfaces besides lo (${outside.join(', ')}): run it in a loopback-only network namespace (see the top of this file)`);
  process.exit(2);
}

await ensureWebBuilt({ quiet: true });
const stateDir = await mkdtemp(join(tmpdir(), 'cascade-bench-web-list-'));
const server = await startServer({
  chain: false, // no embedded chain: not what this is about
  stateDir,
  downloadDir: join(stateDir, 'downloads'),
  httpPort: 0,
  host: '127.0.0.1',
  btPort: 0,
  btHost: '127.0.0.1',
  dht: false,
  trackerPorts: { http: 0, udp: 0 },
});
await server.ready;
const profile = await mkdtemp(join(tmpdir(), 'cascade-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1366, height: 900 },
});

// Stopped early (Ctrl-C): the node and Chromium go, and their temporary folders with them.
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
async function cleanup(): Promise<void> {
  await context.close().catch(() => {});
  await server.close().catch(() => {});
  await rm(profile, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
}

try {
  const width = String(N - 1).length;
  const name = (i: number) => `bench-${String(i).padStart(width, '0')}.bin`;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const info = { length: 1000 + ((i * 7919) % 100_000), name: name(i), 'piece length': 1 << 17, pieces: randomBytes(20) };
      const form = new FormData();
      form.append('torrent', new Blob([Buffer.from(bencode({ info }))]), `${i}.torrent`);
      form.append('paused', 'true');
      const res = await fetch(new URL('/api/torrents', server.url), { method: 'POST', body: form, headers: { authorization: `Bearer ${server.token}` } });
      if (!res.ok) throw new Error(`add ${i}: ${res.status} ${await res.text()}`);
      if ((i + 1) % 1000 === 0) console.error(`  … ${i + 1} added (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  console.log(`added ${N} torrents in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const page = await context.newPage();
  await page.goto(`${server.url}/#/settings`);
  // The first claim needs the one-time code only the machine's owner can read.
  await page.locator('[data-testid="claim-code"]').fill((await readFile(join(stateDir, 'claim-code'), 'utf8')).trim());
  await page.locator('[data-testid="claim-node"]').click();
  await page.locator('[data-testid="whoami"].role-owner').waitFor({ timeout: 60_000 });

  const opens: number[] = [];
  /** When the socket's full list arrived, from the same start (the node's and the wire's share). */
  const snapshots: number[] = [];
  for (let k = 0; k < 3; k++) {
    await page.goto('about:blank');
    const start = performance.now();
    let snapshotAt = NaN;
    page.once('websocket', (ws) =>
      ws.on('framereceived', (f) => {
        if (Number.isNaN(snapshotAt) && typeof f.payload === 'string' && f.payload.startsWith('42["torrents",')) snapshotAt = performance.now() - start;
      }),
    );
    await page.goto(`${server.url}/#/torrents`);
    await page.locator('[data-testid="torrent-row"]').first().waitFor({ timeout: 60_000 });
    opens.push(performance.now() - start);
    snapshots.push(snapshotAt);
    await page.waitForFunction((n) => document.querySelector('[role="grid"]')?.getAttribute('aria-rowcount') === String(n + 1), N, { timeout: 60_000 });
  }

  const rowsAt: string[] = [];
  let toLast = 0;
  for (const [where, fraction] of [['top', 0], ['middle', 0.5], ['bottom', 1]] as const) {
    const took = await measure(page, { kind: 'scroll', fraction, lastIndex: N + 1 });
    if (where === 'bottom') toLast = took;
    await page.waitForTimeout(300);
    rowsAt.push(`${where} ${await page.locator('[data-testid="torrent-row"]').count()}`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));

  const searchOne = await measure(page, { kind: 'search', text: name(N - 7), rows: 1 });
  const searchBack = await measure(page, { kind: 'search', text: '', rows: N });
  const sortSize = await measure(page, { kind: 'sort', field: 'size', order: 'descending' });
  const sortSizeUp = await measure(page, { kind: 'sort', field: 'size', order: 'ascending' });
  const sortName = await measure(page, { kind: 'sort', field: 'name', order: 'ascending' });

  // A change made through the API (resume the first row's torrent): how soon the page shows it, and
  // which socket event brought it (torrents:changes from nodes with issue 25's feed, else the list).
  const firstHash = (await page.locator('[data-testid="torrent-row"]').first().getAttribute('data-infohash'))!;
  const carriers: string[] = [];
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameReceived', (e: { response: { payloadData: string } }) => {
    const m = /^42\["([^"]+)"/.exec(e.response.payloadData);
    if (m && m[1]!.startsWith('torrents') && e.response.payloadData.includes(firstHash)) carriers.push(m[1]!);
  });
  const changeStart = performance.now();
  const resumed = await fetch(new URL(`/api/torrents/${firstHash}/resume`, server.url), { method: 'POST', headers: { authorization: `Bearer ${server.token}` } });
  if (!resumed.ok) throw new Error(`resume: ${resumed.status}`);
  const answered = performance.now() - changeStart;
  await page.locator(`[data-testid="torrent-row"][data-infohash="${firstHash}"]:not([data-state="paused"])`).waitFor({ timeout: 30_000 });
  const changeShown = performance.now() - changeStart;

  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`torrents view, ${N} torrents (load ${loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  console.log(`  first rows after opening:   ${opens.map(ms).join(', ')} (median ${ms([...opens].sort((a, b) => a - b)[1]!)}); the socket's list had arrived at ${snapshots.map(ms).join(', ')}`);
  console.log(`  torrent-row elements:       ${rowsAt.join(', ')}`);
  console.log(`  jump to the end, last row:  ${ms(toLast)}`);
  console.log(`  search one torrent:         ${ms(searchOne)}; clear the search (all ${N} back): ${ms(searchBack)}`);
  console.log(`  sort by size ↓, size ↑, name: ${ms(sortSize)}, ${ms(sortSizeUp)}, ${ms(sortName)}`);
  console.log(`  a resume through the API shown in the page: ${ms(changeShown)} after the request, ${ms(changeShown - answered)} after its answer (carried by ${[...new Set(carriers)].join(', ') || '?'})`);
} finally {
  if (!stopping) await cleanup();
}

type Step = { kind: 'scroll'; fraction: number; lastIndex: number } | { kind: 'search'; text: string; rows: number } | { kind: 'sort'; field: string; order: 'ascending' | 'descending' };

/** Does `step` in the page and answers the ms until its outcome shows, to the frame after it (what
 *  a person sees): a scroll to the bottom until the last row is drawn, a search until the grid counts
 *  `rows`, a sort until its header says `order`. */
function measure(page: Page, step: Step): Promise<number> {
  return page.evaluate(
    (s) =>
      new Promise<number>((resolve, reject) => {
        const start = performance.now();
        let done: () => boolean;
        if (s.kind === 'scroll') {
          window.scrollTo(0, (document.documentElement.scrollHeight - innerHeight) * s.fraction);
          done = () => s.fraction < 1 || !!document.querySelector(`[data-testid="torrent-row"][aria-rowindex="${s.lastIndex}"]`);
        } else if (s.kind === 'search') {
          const el = document.querySelector<HTMLInputElement>('[data-testid="torrent-search"]')!;
          Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, s.text);
          el.dispatchEvent(new Event('input', { bubbles: true }));
          done = () => document.querySelector('[role="grid"]')?.getAttribute('aria-rowcount') === String(s.rows + 1);
        } else {
          document.querySelector<HTMLElement>(`[data-testid="sort-${s.field}"]`)!.click();
          done = () => document.querySelector(`th:has([data-testid="sort-${s.field}"])`)?.getAttribute('aria-sort') === s.order;
        }
        const frame = () => {
          if (done()) requestAnimationFrame(() => resolve(performance.now() - start));
          else if (performance.now() - start > 30_000) reject(new Error(`timed out: ${JSON.stringify(s)}`));
          else requestAnimationFrame(frame);
        };
        frame();
      }),
    step,
  );
}
