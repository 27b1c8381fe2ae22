// Accessibility (issue 20, defect 10): axe-core, run inside real Chromium, finds no serious or
// critical violation on any view of the app — the torrent list, the list with the detail panel open,
// with rows selected (bulk bar) and with the remove question, add, share and a share result,
// network, settings, chat, the RSS page when the build has one, the list with a torrent running in
// the tab, the first-run and sign-in screens and a visitor's pages — in the light and the dark theme. The counts per
// view are printed (all impacts, and serious+critical) for the release notes. Also what axe lets
// pass but the issue names: a control named only by its placeholder (the chat's inputs were), and
// a <main> inside the app's <main> (the chat page's was).

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { browserContext, buildUi, collectErrors, openAsOwner, randomFile, signInWithKey, startTestServer, tempDir } from './helpers.ts';
import { describeViolations, isSerious, memberViews, openView, runAxe, seedTorrents, structuralProblems, type AxeViolation } from './a11y.ts';

before(async () => {
  await buildUi();
});

type Counts = Record<string, { all: number; serious: number; ids: string }>;

function record(counts: Counts, failures: string[], key: string, violations: AxeViolation[], problems: string[] = []): void {
  const serious = violations.filter(isSerious);
  if (problems.length > 0) failures.push(`${key}: ${problems.join('; ')}`);
  counts[key] = { all: violations.reduce((n, v) => n + v.nodes.length, 0), serious: serious.reduce((n, v) => n + v.nodes.length, 0), ids: violations.map((v) => `${v.id}(${v.impact})×${v.nodes.length}`).join(' ') };
  if (serious.length > 0) failures.push(`${key}:\n  ${describeViolations(serious).replace(/\n/g, '\n  ')}`);
}

function printCounts(counts: Counts): void {
  console.log('axe-core violations per view (elements; all impacts / serious+critical):');
  for (const [k, c] of Object.entries(counts)) console.log(`  ${k.padEnd(22)} ${String(c.all).padStart(3)} / ${c.serious}  ${c.ids}`);
}

test('axe-core: no serious or critical violation on any view, light and dark', async (t) => {
  const node = await startTestServer(t);
  const counts: Counts = {};
  const failures: string[] = [];

  /** A fresh browser's first screen (first-run or sign-in), in both themes. */
  const firstScreen = async (name: string, ready: string) => {
    for (const dark of [false, true]) {
      const fresh = await browserContext(t, { dark });
      const p = await fresh.newPage();
      await p.goto(node.url);
      await p.locator(ready).waitFor({ timeout: 20_000 });
      record(counts, failures, `${name} ${dark ? 'dark' : 'light'}`, await runAxe(p), await structuralProblems(p));
      await fresh.close();
    }
  };
  // Before anyone claims the node: the first-run screen.
  await firstScreen('first-run', '[data-testid="claim-node"]');

  const context = await browserContext(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, node.url);
  const { seeding } = await seedTorrents(node, ['ubuntu-24.04-desktop-amd64.iso', 'holiday photos.zip']);

  // The first Tab stop skips the top bar: it focuses the page's main content.
  await openView(page, node.url, { name: 'torrents', hash: '#/torrents', ready: '[data-testid="torrent-row"]' });
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'skip-to-content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => !!document.activeElement?.closest('main')), true, 'the next Tab stop is in the content');

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const v of await memberViews(page, seeding[0]!)) {
      await openView(page, node.url, v);
      record(counts, failures, `${v.name} ${scheme}`, await runAxe(page), await structuralProblems(page));
    }
    // The list with every row selected (the bulk bar), then the remove question over it.
    await openView(page, node.url, { name: 'torrents', hash: '#/torrents', ready: '[data-testid="torrent-row"]' });
    await page.locator('[data-testid="select-all"]').check();
    await page.locator('[data-testid="bulk-bar"]').waitFor();
    record(counts, failures, `bulk bar ${scheme}`, await runAxe(page), await structuralProblems(page));
    await page.locator('[data-testid="bulk-remove"]').click();
    await page.getByRole('dialog').waitFor();
    record(counts, failures, `remove dialog ${scheme}`, await runAxe(page));
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.locator('[data-testid="bulk-clear"]').click();
  }

  // A share result (magnet, QR) and the list with a torrent running in this tab, in both themes.
  const work = await tempDir(t, 'a11y-files');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const file = await randomFile(work, `from-the-tab-${scheme}.bin`, 50_000);
    await page.goto(`${node.url}/#/share`);
    await page.locator('[data-testid="share-mode-browser"]').click();
    await page.locator('[data-testid="share-input"]').setInputFiles(file.path);
    await page.locator('[data-testid="magnet-qr"]').waitFor({ timeout: 30_000 });
    record(counts, failures, `share result ${scheme}`, await runAxe(page), await structuralProblems(page));
    await page.locator('[data-testid="nav-torrents"]').click();
    await page.locator('[data-testid="browser-torrent-row"]').first().waitFor();
    record(counts, failures, `torrents+tab ${scheme}`, await runAxe(page), await structuralProblems(page));
  }

  // Another browser on the claimed node: the sign-in screen, then what a visitor (signed in, not a
  // member) sees.
  await firstScreen('sign-in', '[data-testid="sign-in-key"]');
  for (const dark of [false, true]) {
    const visitor = await browserContext(t, { dark });
    const p = await visitor.newPage();
    await signInWithKey(p, node.url);
    for (const v of [
      { name: 'visitor torrents', hash: '#/torrents', ready: '[data-testid="visitor-notice"]' },
      { name: 'visitor add', hash: '#/add', ready: '[data-testid="add-visitor-hint"]' },
      { name: 'visitor share', hash: '#/share', ready: '[data-testid="share-visitor-hint"]' },
    ]) {
      await openView(p, node.url, v);
      record(counts, failures, `${v.name} ${dark ? 'dark' : 'light'}`, await runAxe(p), await structuralProblems(p));
    }
    await visitor.close();
  }

  printCounts(counts);
  assert.deepEqual(failures, [], `serious/critical axe-core violations:\n${failures.join('\n')}`);
  assert.deepEqual(errors, [], 'no errors in the page');
});
