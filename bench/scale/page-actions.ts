// What a user does on the torrents view of a big library, timed in the benchmark's Chromium page
// (issue 25, point 6): scroll from the top to the last torrent with fewer than 500 rows in the page
// at every stop, search, sort both ways, and "select all" then pause and resume every torrent
// through one bulk request each. Each time runs from the user's action (the keystrokes, the click)
// until the page shows its result, polled every animation frame.
//
// It runs after the idle windows (so they measure idle) and leaves every torrent as it found it:
// resumed, seeding, the search empty.

import type { Page, Request } from 'playwright-core';
import type { RunningNode } from './cascade-node.ts';
import { apiJson } from './cascade-node.ts';
import { sleep } from './proc.ts';
import type { BenchTorrent } from './torrents.ts';

export interface PageActionFigures {
  /** The most `torrent-row` elements in the page at any of the scroll stops (top to bottom). */
  maxRowsInPage: number;
  /** Whether the last torrent's row was on screen once scrolled to the bottom. */
  lastReachable: boolean;
  /** Typing one torrent's full name until only its row shows; a prefix of 100; clearing it. */
  searchOneMs: number;
  searchPrefixMs: number;
  searchClearMs: number;
  /** Clicking `sort-name` until the first row is the first (or last) name, each way; the slower. */
  sortMs: number;
  /** "select all" then bulk pause: requests to /api/torrents/bulk, seconds until the API reports
   *  every torrent paused; then the same for resume (until every torrent seeds again). */
  pauseAll: { requests: number; seconds: number };
  resumeAll: { requests: number; seconds: number };
}

const ROW = '[data-testid="torrent-row"]';

export async function measurePageActions(page: Page, node: RunningNode, torrents: BenchTorrent[], say: (line: string) => void): Promise<PageActionFigures> {
  const n = torrents.length;
  const names = torrents.map((t) => t.name).sort();
  const firstName = () => page.locator(`${ROW} [data-testid="torrent-name"]`).first().innerText();

  // Scrolling: stops from the top to the bottom, rows counted once the drawn window settles.
  let maxRowsInPage = 0;
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    await page.evaluate((x) => window.scrollTo(0, (document.documentElement.scrollHeight - window.innerHeight) * x), f);
    await settle(page);
    maxRowsInPage = Math.max(maxRowsInPage, await page.locator(ROW).count());
  }
  const last = page.locator(`${ROW}[aria-rowindex="${n + 1}"]`);
  const lastReachable = (await last.count()) === 1 && (await last.isVisible());
  await page.evaluate(() => window.scrollTo(0, 0));
  await settle(page);

  // Search: aria-rowcount is the header plus the rows matched, drawn or not.
  const search = page.locator('[data-testid="torrent-search"]');
  const rowCount = (want: number) => page.waitForFunction((w) => document.querySelector('[role="grid"]')?.getAttribute('aria-rowcount') === String(w), want + 1, RAF);
  const one = torrents[Math.floor(n / 2)]!.name;
  const t1 = performance.now();
  await search.fill(one);
  const searchOneMs = await rowCount(1).then(() => performance.now() - t1);
  if ((await firstName()) !== one) throw new Error(`search for ${one} showed ${await firstName()}`);
  // A prefix shared by 100 torrents (names are zero-padded numbers): the last full hundred.
  const prefix = names[Math.floor((n - 1) / 100) * 100 - 1]?.slice(0, -'00.bin'.length) ?? 'scale-';
  const matching = names.filter((x) => x.startsWith(prefix)).length;
  const t2 = performance.now();
  await search.fill(prefix);
  const searchPrefixMs = await rowCount(matching).then(() => performance.now() - t2);
  const t3 = performance.now();
  await search.fill('');
  const searchClearMs = await rowCount(n).then(() => performance.now() - t3);

  // Sort by name one way and the other: the header's aria-sort says which way, the first row must
  // then be the first or the last name.
  const header = page.locator('th:has([data-testid="sort-name"])');
  const sortOnce = async () => {
    const before = (await header.getAttribute('aria-sort')) ?? '';
    const t = performance.now();
    await page.locator('[data-testid="sort-name"]').click();
    await page.waitForFunction(([row, was, a, z]) => {
      const order = document.querySelector('[data-testid="sort-name"]')?.closest('th')?.getAttribute('aria-sort') ?? '';
      const first = (document.querySelector(row!) as HTMLElement | null)?.innerText ?? '';
      return order !== was && ((order === 'ascending' && first === a) || (order === 'descending' && first === z));
    }, [`${ROW} [data-testid="torrent-name"]`, before, names[0]!, names.at(-1)!], RAF);
    return performance.now() - t;
  };
  const sortMs = Math.max(await sortOnce(), await sortOnce());

  // Select all, then pause and resume everything: one bulk request each, not one per torrent.
  const selectAll = page.locator('[data-testid="select-all"]');
  const bulkAll = async (button: 'bulk-pause' | 'bulk-resume', state: 'paused' | 'seeding') => {
    const bulk: Request[] = [];
    const onRequest = (r: Request) => {
      if (r.url().endsWith('/api/torrents/bulk')) bulk.push(r);
    };
    page.on('request', onRequest);
    try {
      await selectAll.check();
      const count = await page.locator('[data-testid="bulk-count"]').innerText();
      if (!count.startsWith(`${n} selected`)) throw new Error(`select-all: the bulk bar says "${count}", not ${n} selected`);
      const t = performance.now();
      await page.locator(`[data-testid="${button}"]`).click();
      for (;;) {
        // The count in that state, not the whole list: fetching all N every 100 ms would load the
        // node whose time this measures.
        const { total } = await apiJson<{ total: number }>(node, `/api/torrents?state=${state}&limit=1`);
        if (total === n) break;
        if (performance.now() - t > 120_000) throw new Error(`${button}: not every torrent done after 120 s`);
        await sleep(100);
      }
      const seconds = (performance.now() - t) / 1000;
      // A straggling second request would show here.
      await sleep(500);
      if (await selectAll.isChecked()) await selectAll.uncheck();
      return { requests: bulk.length, seconds };
    } finally {
      page.off('request', onRequest);
    }
  };
  const pauseAll = await bulkAll('bulk-pause', 'paused');
  const resumeAll = await bulkAll('bulk-resume', 'seeding');
  const figures = { maxRowsInPage, lastReachable, searchOneMs, searchPrefixMs, searchClearMs, sortMs, pauseAll, resumeAll };
  say(
    `cascade: page: at most ${maxRowsInPage} rows in the page, last torrent ${lastReachable ? 'reached' : 'NOT reached'}; search one ${searchOneMs.toFixed(0)} ms, ` +
      `prefix of ${matching} ${searchPrefixMs.toFixed(0)} ms, cleared ${searchClearMs.toFixed(0)} ms; sort ${sortMs.toFixed(0)} ms; ` +
      `select all + pause: ${pauseAll.requests} bulk request(s), all paused in ${pauseAll.seconds.toFixed(2)} s; + resume: ${resumeAll.requests}, all seeding again in ${resumeAll.seconds.toFixed(2)} s`,
  );
  return figures;
}

/** page.waitForFunction's options: checked every animation frame. */
const RAF = { polling: 'raf', timeout: 30_000 } as const;

/** Until the rows drawn stop changing between two frames a little apart (after a scroll). */
async function settle(page: Page): Promise<void> {
  let last = '';
  for (let i = 0; i < 50; i++) {
    const now = await page.evaluate((sel) => Array.from(document.querySelectorAll(sel)).map((r) => r.getAttribute('aria-rowindex')).join(), ROW);
    if (now === last && now !== '') return;
    last = now;
    await sleep(100);
  }
}

