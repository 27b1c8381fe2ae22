// Accessibility and layout probes for the browser tests: axe-core run inside the page, and the
// page's horizontal overflow. Shared by a11y.browser.test.ts and layout.browser.test.ts.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { nodeFetch, until, type TestServer } from './helpers.ts';

const require = createRequire(import.meta.url);
let axeSource: Promise<string> | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's violations on what the page shows now. Evaluated over the DevTools protocol, so the
 *  app's Content-Security-Policy (no inline scripts) does not stop it. */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  // Once per document: a view reached by its hash alone keeps the page, and axe with it (parsing
  // its 560 kB again on each of a file's ~40 views cost CPU-seconds).
  if (!(await page.evaluate(() => 'axe' in window))) {
    axeSource ??= readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(`${await axeSource}\n;void 0`);
  }
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const res = await axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

export const isSerious = (v: AxeViolation) => v.impact === 'serious' || v.impact === 'critical';

/** What axe-core lets pass but the issue names (defect 10): form controls named only by their
 *  placeholder (it vanishes once typed in), and more than one <main> on the page. */
export function structuralProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const mains = document.querySelectorAll('main, [role="main"]').length;
    if (mains > 1) out.push(`${mains} main landmarks`);
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea'))) {
      if (el instanceof HTMLInputElement && el.type === 'hidden') continue;
      if (el.getClientRects().length === 0 && !(el instanceof HTMLInputElement && el.type === 'file')) continue;
      const labelled =
        el.hasAttribute('aria-label') ||
        el.hasAttribute('aria-labelledby') ||
        el.hasAttribute('title') ||
        ((el as HTMLInputElement).labels?.length ?? 0) > 0;
      if (!labelled) out.push(`unlabelled ${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}${el.getAttribute('placeholder') ? ` (placeholder "${el.getAttribute('placeholder')}")` : ''}`);
    }
    return out;
  });
}

/** One line per violation with the first few elements it hit, for assertion messages. */
export function describeViolations(list: AxeViolation[]): string {
  return list
    .map((v) => `${v.impact} ${v.id} (${v.nodes.length}): ${v.help}\n    ${v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')} — ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 200)}`).join('\n    ')}`)
    .join('\n');
}

/** How far the document, or the detail panel (fixed over the page on narrow screens, so the
 *  document's width does not show it), scrolls sideways: 0 when everything fits. */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const panel = document.querySelector<HTMLElement>('[data-testid="detail-panel"]');
    const inPanel = panel ? panel.scrollWidth - panel.clientWidth : 0;
    return Math.max(document.documentElement.scrollWidth - window.innerWidth, inPanel);
  });
}

/** The top bar at each width (721 px up: below, the navigation is a bottom tab bar): where the
 *  navigation runs into the account controls, or the page scrolls sideways. Empty when it fits. */
export async function topBarMisfits(page: Page, widths = [1920, 1440, 1400, 1366, 1340, 1321, 1320, 1280, 1181, 1180, 1100, 900, 721]): Promise<string[]> {
  const bad: string[] = [];
  for (const width of widths) {
    await page.setViewportSize({ width, height: 800 });
    const fit = await page.evaluate(() => {
      const right = document.querySelector('.topbar-right')!.getBoundingClientRect().left;
      const links = Array.from(document.querySelectorAll('.nav-link')).map((a) => a.getBoundingClientRect().right);
      return { right, last: Math.max(...links), scroll: document.documentElement.scrollWidth - document.documentElement.clientWidth };
    });
    if (fit.last > fit.right) bad.push(`${width}px: the nav ends at ${fit.last}px, past the account controls at ${fit.right}px`);
    if (fit.scroll !== 0) bad.push(`${width}px: ${fit.scroll}px of sideways scrolling`);
  }
  return bad;
}

/** Elements wider than the window's right edge (for messages when overflow is found). */
export function overflowingElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > window.innerWidth + 1) {
        const id = el.getAttribute('data-testid');
        out.push(`${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}${id ? `[${id}]` : ''} right=${Math.round(r.right)}`);
      }
    }
    return out.slice(0, 12);
  });
}

/** Adds a few torrents on the node through its API: seeding ones with real data (multipart upload
 *  of small files) and one magnet nobody has (stays in "metadata"). Returns their infohashes. */
export async function seedTorrents(node: TestServer, names: string[], magnetName = 'waiting-for-peers'): Promise<{ seeding: string[]; magnet: string }> {
  const seeding: string[] = [];
  for (const [i, name] of names.entries()) {
    const fd = new FormData();
    fd.append('file', new Blob([new Uint8Array(64 * 1024 + i * 4096).fill(i + 1)]), name);
    const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: fd });
    if (!res.ok) throw new Error(`upload ${name}: ${res.status} ${await res.text()}`);
    seeding.push(((await res.json()) as { infoHash: string }).infoHash);
  }
  const magnet = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';
  const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${magnet}&dn=${magnetName}` }) });
  if (!res.ok) throw new Error(`add magnet: ${res.status} ${await res.text()}`);
  return { seeding, magnet };
}

/** A view of the app (node member's pages) and what shows it has rendered. */
export interface ViewVisit {
  name: string;
  hash: string;
  ready: string;
}

/** Every page of the app a member sees; the RSS page joins once the build has one. */
export async function memberViews(page: Page, selectedHash: string): Promise<ViewVisit[]> {
  const views: ViewVisit[] = [
    { name: 'torrents', hash: '#/torrents', ready: '[data-testid="torrent-row"]' },
    { name: 'detail', hash: `#/torrents/${selectedHash}`, ready: '[data-testid="detail-panel"] [data-testid="file-row"]' },
    { name: 'add', hash: '#/add', ready: '[data-testid="add-uri-input"]' },
    { name: 'share', hash: '#/share', ready: '[data-testid="share-input"]' },
    { name: 'network', hash: '#/network', ready: '[data-testid="health-port"]' },
    // On a node without a chain the page says so; with one it shows the figures.
    { name: 'rewards', hash: '#/rewards', ready: '[data-testid="rewards-unavailable"], [data-testid="rewards-earned"]' },
    // The market needs the chain too (issue 62): said so, or its listings and orders.
    { name: 'market', hash: '#/market', ready: '[data-testid="market-unavailable"], [data-testid="market-purchases"], [data-testid="market-purchases-empty"]' },
    { name: 'settings', hash: '#/settings', ready: '[data-testid="settings-port"]' },
    { name: 'chat', hash: '#/chat', ready: '[data-testid="chat-my-did"], [data-testid="chat-unavailable"], [data-testid="chat-error"]' },
  ];
  if ((await page.locator('[data-testid="nav-rss"]').count()) > 0) views.push({ name: 'rss', hash: '#/rss', ready: '[data-testid="rss-page"]' });
  views.push({ name: 'assistant', hash: '#/assistant', ready: '[data-testid="assistant-privacy"][data-llm="none"], [data-testid="assistant-privacy"][data-llm="remote"]' });
  return views;
}

/** Goes to a view and waits until it shows its content (and the live list, for the torrents). */
export async function openView(page: Page, url: string, v: ViewVisit): Promise<void> {
  await page.goto(`${url}/${v.hash}`);
  await page.locator(v.ready).first().waitFor({ timeout: 20_000 });
  // Let transitions (progress bars, theme) settle before measuring colours and widths.
  await until('animations settled', () => page.evaluate(() => document.getAnimations().every((a) => a.playState !== 'running' || (a.effect?.getTiming().iterations ?? 1) === Infinity)), 5_000, 100);
}
