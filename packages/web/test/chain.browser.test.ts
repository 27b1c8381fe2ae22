// The chain in the web app (issue 13), in real Chromium against a node with the embedded chain
// (anvil, all on 127.0.0.1): a torrent's Ownership in the detail panel's Info tab — "Not
// registered", Register, then the owner is the node's account with its did, "this node", the
// metadata CID, and the content "matches", as GET …/registration (what `cascade verify` says) has it;
// a member sees a disabled Register with the reason —; the Rewards page — nothing earned, Claim says
// there is nothing new to claim —, axe-core on both in light and dark, the page at phone width, the
// navigation with its new entry fitting the top bar. And a node without a chain: both say so,
// with no error in the page.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildUi, collectErrors, launchBrowser, nodeFetch, nodeJson, openAsMember, openAsOwner, screenshot, startTestServer, until, type TestServer } from './helpers.ts';
import { describeViolations, horizontalOverflow, isSerious, runAxe, structuralProblems, topBarMisfits } from './a11y.ts';

before(async () => {
  await buildUi();
});

async function upload(node: TestServer, name: string, size: number): Promise<string> {
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff)]), name);
  const res = await nodeFetch(node, '/api/torrents', { method: 'POST', body: fd });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { infoHash: string }).infoHash;
}

/** Opens a torrent's detail panel afresh (from the list) at its Info tab. */
async function openInfo(page: Page, url: string, infoHash: string): Promise<void> {
  await page.goto(`${url}/#/torrents`);
  await page.goto(`${url}/#/torrents/${infoHash}`);
  const panel = page.locator('[data-testid="detail-panel"]');
  await panel.locator('[data-testid="file-row"]').first().waitFor({ timeout: 20_000 });
  await panel.locator('[data-testid="detail-tab-overview"]').click();
  await panel.locator('[data-testid="detail-ownership"]').waitFor();
}

/** axe-core's serious and critical findings (and unlabelled controls) on what the page shows, in both themes. */
async function axeBothThemes(page: Page, what: string): Promise<string[]> {
  const failures: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const serious = (await runAxe(page)).filter(isSerious);
    if (serious.length > 0) failures.push(`${what} ${scheme}:\n  ${describeViolations(serious)}`);
    const problems = await structuralProblems(page);
    if (problems.length > 0) failures.push(`${what} ${scheme}: ${problems.join('; ')}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return failures;
}

const text = async (page: Page, testId: string) => (await page.locator(`[data-testid="${testId}"]`).innerText()).trim();

test('Ownership and Rewards on the embedded chain: register from the panel, claim with nothing to claim', { timeout: 240_000 }, async (t) => {
  const node = await startTestServer(t, { chain: {} });
  await until('the embedded chain', async () => (await nodeJson<{ chain?: { state?: string } }>(node, '/api/health')).chain?.state === 'running', 90_000, 250);
  const ih = await upload(node, 'field-recordings.flac', 300_000);
  const other = await upload(node, 'unregistered.txt', 20_000);
  const { address, did } = node.server.identity;

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/torrents`);

  await t.test('Info tab: "Not registered", Register → the node\'s account, its did, "this node", matches', async () => {
    await openInfo(page, node.url, ih);
    await until('"Not registered"', async () => (await page.locator('[data-testid="detail-owner-status"]').count()) > 0, 20_000);
    assert.equal(await text(page, 'detail-owner-status'), 'Not registered');
    const button = page.locator('[data-testid="detail-register"]');
    assert.equal(await button.isEnabled(), true, 'the owner may register');
    await screenshot(page, 'chain-detail-unregistered');
    await button.click();
    await page.locator('[data-testid="detail-owner"]').waitFor({ timeout: 30_000 });
    assert.equal(await text(page, 'detail-owner'), address);
    assert.equal(await text(page, 'detail-owner-did'), did);
    assert.equal(await text(page, 'detail-owner-ours'), 'this node');
    assert.equal(await text(page, 'detail-owner-match'), 'matches');
    assert.match(await text(page, 'detail-register-tx'), /^0x[0-9a-f]{64}$/);
    assert.equal(await page.locator('[data-testid="detail-register-error"]').count(), 0);
    await screenshot(page, 'chain-detail-registered');

    // What `cascade verify` says, through the same handler: the same owner, did, block and CID.
    const reg = await nodeJson<Record<string, unknown>>(node, `/api/torrents/${ih}/registration`);
    assert.deepEqual(
      { registered: reg.registered, owner: reg.owner, did: reg.did, ours: reg.ours, matches: reg.matches, metadataCid: reg.metadataCid, block: String(reg.block) },
      { registered: true, owner: address, did, ours: true, matches: true, metadataCid: await text(page, 'detail-owner-cid'), block: await text(page, 'detail-owner-block') },
    );
    // Opened again later (a fresh load), the panel reads the same from the registry.
    await openInfo(page, node.url, ih);
    await page.locator('[data-testid="detail-owner"]').waitFor({ timeout: 20_000 });
    assert.equal(await text(page, 'detail-owner'), address);
    assert.equal(await text(page, 'detail-owner-match'), 'matches');
    assert.deepEqual(await axeBothThemes(page, 'detail ownership'), []);
  });

  await t.test('a member sees the owner, and Register disabled with the reason', async (tt) => {
    const memberContext = await launchBrowser(tt);
    const member = await memberContext.newPage();
    const memberErrors = collectErrors(member);
    await openAsMember(member, node);
    await openInfo(member, node.url, ih);
    await member.locator('[data-testid="detail-owner"]').waitFor({ timeout: 20_000 });
    assert.equal(await text(member, 'detail-owner'), address);
    assert.equal(await member.locator('[data-testid="detail-owner-ours"]').count(), 1, 'the node is its owner');
    await openInfo(member, node.url, other);
    await member.locator('[data-testid="detail-owner-status"]').waitFor({ timeout: 20_000 });
    const button = member.locator('[data-testid="detail-register"]');
    assert.equal(await button.isDisabled(), true);
    const reason = await member.locator(`#${cssId(await button.getAttribute('aria-describedby'))}`).innerText();
    assert.match(reason, /only the node's owner/i);
    assert.deepEqual(memberErrors, [], 'no errors in the member\'s page');
  });

  await t.test('Rewards page: nothing earned, the node\'s account; Claim → "Nothing new to claim"', async () => {
    await page.locator('[data-testid="nav-rewards"]').click();
    await page.waitForURL(/#\/rewards$/);
    await page.locator('[data-testid="rewards-page"] [data-testid="rewards-earned"]').waitFor({ timeout: 20_000 });
    for (const k of ['earned', 'claimed', 'pending']) {
      assert.equal(await page.locator(`[data-testid="rewards-${k}"]`).getAttribute('data-bytes'), '0', k);
      assert.equal(await text(page, `rewards-${k}`), '0 B', k);
      assert.match((await page.locator(`[data-testid="rewards-${k}"]`).getAttribute('title')) ?? '', /^0 bytes$/, k);
    }
    assert.equal(await text(page, 'rewards-balance'), '0');
    assert.equal(await text(page, 'rewards-account'), address);
    assert.equal(await text(page, 'rewards-receipts'), '0');
    assert.equal(await page.locator('[data-testid="rewards-unavailable"]').count(), 0);
    await page.locator('[data-testid="rewards-claim"]').click();
    await page.locator('[data-testid="rewards-claim-result"]').waitFor({ timeout: 30_000 });
    assert.equal(await text(page, 'rewards-claim-result'), 'Nothing new to claim');
    assert.equal(await text(page, 'rewards-earned'), '0 B');
    await screenshot(page, 'chain-rewards');
    assert.deepEqual(await axeBothThemes(page, 'rewards'), []);
  });

  await t.test('the navigation with its Rewards entry fits the top bar at every width; the page fits a phone', async () => {
    const bad = await topBarMisfits(page);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('[data-testid="rewards-earned"]').waitFor();
    const overflow = await horizontalOverflow(page);
    if (overflow > 0) bad.push(`390px: ${overflow}px of sideways scrolling`);
    // The bottom tab bar: every entry within the screen, its label not cut off.
    const tabs = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('.nav-link')).map((a) => ({ label: a.innerText.trim(), right: a.getBoundingClientRect().right, clipped: (a.querySelector('.nav-label')?.scrollWidth ?? 0) > a.clientWidth })),
    );
    for (const tab of tabs) if (tab.right > 390 + 0.5 || tab.clipped) bad.push(`390px: the "${tab.label}" tab does not fit (${JSON.stringify(tab)})`);
    await screenshot(page, 'chain-rewards-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(bad, []);
  });

  assert.deepEqual(errors, [], 'no errors in the page');
});

test('a node without a chain: the Rewards page and the Ownership section say so, with no error', { timeout: 120_000 }, async (t) => {
  const node = await startTestServer(t);
  const ih = await upload(node, 'plain.txt', 10_000);
  const context = await launchBrowser(t);
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, `${node.url}/#/rewards`);
  await page.locator('[data-testid="rewards-page"] [data-testid="rewards-unavailable"]').waitFor({ timeout: 20_000 });
  assert.match(await text(page, 'rewards-unavailable'), /without a chain/);
  assert.equal(await page.locator('[data-testid="rewards-claim"]').count(), 0, 'nothing to claim with');
  assert.deepEqual(await axeBothThemes(page, 'rewards without a chain'), []);

  await openInfo(page, node.url, ih);
  await page.locator('[data-testid="detail-owner-unavailable"]').waitFor({ timeout: 20_000 });
  assert.match(await text(page, 'detail-owner-unavailable'), /without a chain/);
  assert.equal(await page.locator('[data-testid="detail-register"]').count(), 0);
  // The node's own answer agrees (409 with the same words).
  const res = await nodeFetch(node, `/api/torrents/${ih}/registration`);
  assert.equal(res.status, 409);
  assert.match(((await res.json()) as { message: string }).message, /without a chain/);
  assert.deepEqual(errors, [], 'no errors in the page');
});

/** An id from useId (":r1:") as a CSS selector part. */
function cssId(id: string | null): string {
  assert.ok(id, 'aria-describedby set');
  return id.replace(/[^a-zA-Z0-9_-]/g, (c) => `\\${c}`);
}
