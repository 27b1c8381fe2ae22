// Issue 45 item 5: Cascade installable on a phone. One node and one Chromium for all of it:
// - the manifest, icons and service worker are served with the right types and cache headers;
// - Chromium's own installability check (DevTools protocol: Page.getInstallabilityErrors) finds
//   nothing missing, and Lighthouse's PWA and best-practices categories score 100;
// - the share target: a file posted to it lands on the Share page ready to share (the node has
//   nothing until the user confirms), a link (GET, and a POST without files) on the Add page;
// - at 360×740 and 1366×768 the main views are axe-core clean and their buttons and links are at
//   least 44×44 CSS px; the phone's bottom bar keeps four places and puts the rest behind More;
// - with the node stopped, a reload still shows the app (the service worker's shell), while an
//   /api request fails instead of being answered from a cache.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { buildUi, collectErrors, devToolsPortOf, launchBrowser, nodeJson, openAsOwner, startTestServer, until } from './helpers.ts';
import { describeViolations, horizontalOverflow, isSerious, openView, overflowingElements, runAxe, topBarMisfits, type ViewVisit } from './a11y.ts';

before(async () => {
  await buildUi();
});

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

interface Manifest {
  name: string;
  short_name: string;
  start_url: string;
  scope: string;
  display: string;
  theme_color: string;
  background_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
  share_target: { action: string; method: string; enctype: string; params: { text: string; url: string; files: { name: string }[] } };
}

/** Buttons and links of the page smaller than 44×44 CSS px (inline links inside a sentence are
 *  exempt, as in WCAG 2.5.5; so is what is not shown). */
function smallTargets(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('button, a[href], [role="button"], [role="tab"], summary, select'))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      if (el.tagName === 'A' && getComputedStyle(el).display === 'inline') continue;
      if (r.width >= 43.5 && r.height >= 43.5) continue;
      const id = el.getAttribute('data-testid');
      const name = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 30);
      out.push(`${el.tagName.toLowerCase()}${id ? `[${id}]` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).join('.')}` : ''} "${name}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
    return out;
  });
}

/** Posts to the share target as a phone's share sheet does: a form navigation, multipart. */
function postShare(page: Page, share: { fields?: Record<string, string>; file?: { name: string; type: string; size: number } }): Promise<void> {
  return page.evaluate((share) => {
    const form = document.createElement('form');
    form.method = 'post';
    form.enctype = 'multipart/form-data';
    form.action = './share-target';
    for (const [name, value] of Object.entries(share.fields ?? {})) {
      const input = document.createElement('input');
      input.name = name;
      input.value = value;
      form.append(input);
    }
    if (share.file) {
      const input = document.createElement('input');
      input.type = 'file';
      input.name = 'files';
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(share.file.size).fill(7)], share.file.name, { type: share.file.type }));
      input.files = dt.files;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }, share);
}

const MAGNET = 'magnet:?xt=urn:btih:c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00&dn=shared-from-a-phone';

test('installable, shares from the share sheet, fits phone and laptop, opens offline without caching the API', async (t) => {
  const node = await startTestServer(t);
  const base = node.url;

  // What the node serves for the installed app, and how it may be cached.
  const manifestRes = await fetch(`${base}/manifest.webmanifest`);
  assert.equal(manifestRes.status, 200);
  assert.match(manifestRes.headers.get('content-type') ?? '', /^application\/manifest\+json/);
  const manifest = (await manifestRes.json()) as Manifest;
  assert.equal(manifest.display, 'standalone');
  assert.equal(manifest.start_url, './');
  assert.equal(manifest.scope, './');
  assert.ok(manifest.name && manifest.short_name && manifest.theme_color && manifest.background_color);
  for (const [size, purpose] of [[192, 'any'], [512, 'any'], [192, 'maskable'], [512, 'maskable']] as const) {
    const icon = manifest.icons.find((i) => i.sizes === `${size}x${size}` && i.purpose === purpose && i.type === 'image/png');
    assert.ok(icon, `a ${purpose} ${size} px PNG icon in ${JSON.stringify(manifest.icons)}`);
    const res = await fetch(new URL(icon.src, `${base}/manifest.webmanifest`));
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.deepEqual(pngSize(new Uint8Array(await res.arrayBuffer())), { width: size, height: size }, icon.src);
  }
  assert.deepEqual({ ...manifest.share_target, params: undefined }, { action: 'share-target', method: 'POST', enctype: 'multipart/form-data', params: undefined });
  const sw = await fetch(`${base}/sw.js`);
  assert.equal(sw.status, 200);
  assert.match(sw.headers.get('content-type') ?? '', /javascript/);
  assert.match(sw.headers.get('cache-control') ?? '', /no-cache/);
  const html = await (await fetch(`${base}/`)).text();
  assert.match((await fetch(`${base}/`)).headers.get('cache-control') ?? '', /no-cache/);
  assert.match(html, /<link rel="manifest" href="\.\/manifest\.webmanifest">/);
  const script = /src="\.\/(assets\/index-[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, 'index.html loads the hashed bundle');
  assert.match((await fetch(`${base}/${script}`)).headers.get('cache-control') ?? '', /immutable/);
  // Without a service worker (not installed yet, or cleared) a share lands on the Share page, which
  // says the files did not come through; the node keeps nothing.
  const bare = await fetch(`${base}/share-target`, { method: 'POST', body: new FormData(), redirect: 'manual' });
  assert.equal(bare.status, 303);
  assert.equal(bare.headers.get('location'), './#/share?shared=none');

  // A touch screen throughout: a phone at 360×740, a touch laptop at 1366×768.
  const context = await launchBrowser(t, { viewport: { width: 1366, height: 768 }, hasTouch: true, devToolsPort: true });
  const page = await context.newPage();
  const errors = collectErrors(page);
  await openAsOwner(page, base);
  // The worker installs (precaching the shell) and takes over the page (clients.claim).
  await until('the service worker controls the page', () => page.evaluate(() => navigator.serviceWorker.controller?.state === 'activated'), 20_000);

  // Chromium's installability check: what its install prompt asks of a manifest, icons and worker.
  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
  assert.deepEqual(installabilityErrors, [], 'Chromium finds the app installable');
  const { errors: manifestErrors } = (await cdp.send('Page.getAppManifest')) as { errors: { message: string; critical: number }[] };
  assert.deepEqual(manifestErrors, [], 'Chromium reads the manifest without complaint');
  await cdp.detach();

  // Lighthouse's PWA and best-practices audits (bench/pwa/run.ts prints them all), in a tab of its
  // own in this browser; its storage reset is off, so the worker and the sign-in stay.
  const { default: lighthouse } = await import('lighthouse');
  const lh = await lighthouse(`${base}/`, {
    port: devToolsPortOf(context),
    output: 'json',
    logLevel: 'error',
    onlyCategories: ['pwa', 'best-practices'],
    disableStorageReset: true,
    formFactor: 'mobile',
    screenEmulation: { mobile: true, width: 360, height: 740, deviceScaleFactor: 2, disabled: false },
  });
  assert.ok(lh, 'Lighthouse ran');
  const scores = Object.fromEntries(Object.values(lh.lhr.categories).map((c) => [c.id, c.score]));
  const failed = Object.values(lh.lhr.audits).filter((a) => a.score !== null && a.score < 1).map((a) => `${a.id}: ${a.title}${a.explanation ? ` — ${a.explanation}` : ''}`);
  assert.deepEqual(scores, { pwa: 1, 'best-practices': 1 }, `Lighthouse ${lh.lhr.lighthouseVersion}: ${failed.join('; ')}`);

  // Share target, files: a POST as the share sheet sends it (a form navigation, multipart).
  const torrentsBefore = (await nodeJson<unknown[]>(node, '/api/torrents')).length;
  await postShare(page, { file: { name: 'holiday from a phone.jpg', type: 'image/jpeg', size: 200_000 } });
  const incoming = page.locator('[data-testid="share-target-files"]');
  await incoming.waitFor({ timeout: 20_000 });
  assert.match(await incoming.locator('[data-testid="share-target-file"]').innerText(), /holiday from a phone\.jpg/);
  assert.equal(new URL(page.url()).hash, '#/share', 'the share id leaves the address');
  assert.equal((await nodeJson<unknown[]>(node, '/api/torrents')).length, torrentsBefore, 'the node has nothing before the user confirms');
  await page.locator('[data-testid="share-mode-node"]').click();
  await page.locator('[data-testid="share-target-confirm"]').click();
  const result = page.locator('[data-testid="share-result"]');
  await result.waitFor({ timeout: 30_000 });
  const infoHash = await result.getAttribute('data-infohash');
  const shared = await nodeJson<{ name: string; length: number | null }>(node, `/api/torrents/${infoHash}`);
  assert.equal(shared.name, 'holiday from a phone.jpg');
  assert.equal(shared.length, 200_000);
  assert.equal(await incoming.count(), 0, 'the shared files are no longer offered');

  // Share target, a link: the GET form (and what the worker makes of a POST without files).
  await page.goto(`${base}/share-target?title=Ubuntu&text=${encodeURIComponent(`Look at this ${MAGNET}`)}`);
  await page.locator('[data-testid="add-shared-note"]').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('[data-testid="add-uri-input"]').inputValue(), MAGNET);
  assert.equal(new URL(page.url()).pathname, '/', 'the app continues at its root');
  await postShare(page, { fields: { url: 'https://example.org/some.torrent' } });
  await until('the Add page with the shared URL', async () => (await page.locator('[data-testid="add-uri-input"]').inputValue().catch(() => '')) === 'https://example.org/some.torrent', 20_000);

  // Phone and laptop: axe-core clean, and buttons and links big enough for a finger.
  const views: ViewVisit[] = [
    { name: 'torrents', hash: '#/torrents', ready: '[data-testid="torrent-row"]' },
    { name: 'share', hash: '#/share', ready: '[data-testid="share-input"]' },
    { name: 'add', hash: '#/add', ready: '[data-testid="add-uri-input"]' },
    { name: 'settings', hash: '#/settings', ready: '[data-testid="settings-port"]' },
  ];
  const failures: string[] = [];
  for (const size of [{ width: 360, height: 740 }, { width: 1366, height: 768 }]) {
    await page.setViewportSize(size);
    for (const v of views) {
      await openView(page, base, v);
      const serious = (await runAxe(page)).filter(isSerious);
      if (serious.length > 0) failures.push(`${v.name} at ${size.width}×${size.height}, axe:\n  ${describeViolations(serious)}`);
      const small = await smallTargets(page);
      if (small.length > 0) failures.push(`${v.name} at ${size.width}×${size.height}, under 44×44: ${small.join(', ')}`);
      const over = await horizontalOverflow(page);
      if (over > 0) failures.push(`${v.name} at ${size.width}×${size.height} scrolls sideways by ${over} px: ${(await overflowingElements(page)).join(', ')}`);
    }
  }
  // The top bar with 44 px targets still fits from tablet to desktop widths.
  failures.push(...(await topBarMisfits(page)));
  assert.deepEqual(failures, []);

  // On the phone the places beyond four are behind More, and reachable from there.
  await page.setViewportSize({ width: 360, height: 740 });
  await page.locator('[data-testid="nav-torrents"]').click();
  assert.equal(await page.locator('[data-testid="nav-settings"]').isVisible(), false, 'Settings is behind More');
  await page.locator('[data-testid="nav-more"]').click();
  const more = page.locator('[data-testid="nav-more-settings"]');
  const box = await more.boundingBox();
  assert.ok(box && box.width >= 44 && box.height >= 44, `More's entries are 44 px targets: ${JSON.stringify(box)}`);
  await more.click();
  await page.locator('[data-testid="settings-port"]').waitFor();
  assert.equal(await page.locator('[data-testid="nav-more"]').getAttribute('aria-expanded'), 'false', 'the panel closes on the way');
  // The theme chosen in the app colours the phone's status bar too.
  await page.locator('[data-testid="theme-dark"]').click();
  assert.deepEqual(await page.evaluate(() => Array.from(document.querySelectorAll<HTMLMetaElement>('meta[name="theme-color"]'), (m) => m.content)), ['#171b24', '#171b24']);
  await page.locator('[data-testid="theme-auto"]').click();

  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), [], 'no error in the page');

  // Offline: the node stops; the page still opens from the worker's shell, the API does not.
  await page.goto(`${base}/#/torrents`);
  await page.locator('[data-testid="torrent-row"]').first().waitFor({ timeout: 20_000 });
  await node.server.close();
  await page.reload();
  // The app itself runs (from the worker's copy) and says the node does not answer.
  await page.locator('[data-testid="auth-unreachable"]').waitFor({ timeout: 20_000 });
  assert.equal(await page.title(), 'Cascade');
  const api = await page.evaluate(async () => {
    try {
      const res = await fetch('/api/auth/me');
      return `answered ${res.status}`;
    } catch (err) {
      return `failed: ${(err as Error).name}`;
    }
  });
  assert.equal(api, 'failed: TypeError', 'an /api request goes to the (stopped) node, not to a cache');
  const cachedApi = await page.evaluate(async () => {
    const out: string[] = [];
    for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) if (/\/(api|socket\.io)\//.test(new URL(req.url).pathname)) out.push(req.url);
    return out;
  });
  assert.deepEqual(cachedApi, [], 'nothing of the API in any cache');
});
