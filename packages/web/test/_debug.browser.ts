import { test } from 'node:test';
import { appendFileSync } from 'node:fs';
const log = (...a: unknown[]) => appendFileSync('/tmp/dbg.log', a.map(String).join(' ') + '\n');
import { buildUi, launchBrowser, randomFile, screenshot, startTestServer, tempDir } from './helpers.ts';
test('debug', async (t) => {
  log('start'); await buildUi(); log('built');
  const node = await startTestServer(t); log('server');
  const work = await tempDir(t, 'files');
  const file = await randomFile(work, 'x.bin', 300000);
  const a = await (await launchBrowser(t)).newPage(); log('browser a');
  const b = await (await launchBrowser(t)).newPage();
  for (const [n, p] of [['A', a], ['B', b]] as const) {
    p.on('console', (m) => log(n, m.type(), m.text()));
    p.on('pageerror', (e) => log(n, 'pageerror', e.message));
  }
  await a.goto(`${node.url}/#/share`);
  await a.locator('[data-testid="share-mode-browser"]').click();
  await a.locator('[data-testid="share-input"]').setInputFiles(file.path);
  const result = a.locator('[data-testid="share-result"][data-where="browser"]');
  await result.waitFor({ timeout: 30000 });
  const magnet = await result.locator('[data-testid="magnet-link"]').inputValue();
  log('magnet', magnet);
  await b.goto(`${node.url}/#/add`);
  await b.locator('[data-testid="add-target-browser"]').click();
  await b.locator('[data-testid="add-uri-input"]').fill(magnet);
  await b.locator('[data-testid="add-uri-submit"]').click();
  await new Promise((r) => setTimeout(r, 8000));
  await screenshot(b, 'debug-b');
  await a.goto(`${node.url}/#/torrents`);
  await screenshot(a, 'debug-a');
  log('A pcs', await a.evaluate(() => (window as any).__pcs.map((p: RTCPeerConnection) => p.connectionState + '/' + p.iceGatheringState)));
  log('B pcs', await b.evaluate(() => (window as any).__pcs.map((p: RTCPeerConnection) => p.connectionState + '/' + p.iceGatheringState)));
});
