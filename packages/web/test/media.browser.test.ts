// Defect 4 (issue 20): audio and video files of a torrent play — in the page (the file's Play
// button opens a <video>/<audio>, data-testid media-player) and when opened in a tab of their own —
// fetched with HTTP Range, within the security headers: media types are playable by the app's own
// origin, everything else keeps the sandbox and nosniff.
// Media are real: a PCM WAV written here, and a WebM that Chromium itself records from a canvas.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { buildUi, collectErrors, launchBrowser, lt, nodeFetch, nodeJson, openAsOwner, screenshot, startTestServer, tempDir, until } from './helpers.ts';
import { sineWav } from './media.ts';
import { describeViolations, isSerious, runAxe } from './a11y.ts';

before(async () => {
  await buildUi();
});

/** Chromium records ~1.5 s of an animated canvas as VP8 WebM; returns the file's bytes. */
async function recordWebm(page: Page): Promise<Buffer> {
  const b64 = await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const g = canvas.getContext('2d')!;
    let n = 0;
    const draw = setInterval(() => {
      g.fillStyle = `hsl(${(n++ * 12) % 360} 70% 50%)`;
      g.fillRect(0, 0, 160, 120);
    }, 40);
    const rec = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm;codecs=vp8' });
    const parts: Blob[] = [];
    rec.ondataavailable = (e) => parts.push(e.data);
    const stopped = new Promise((r) => (rec.onstop = r));
    rec.start(100);
    await new Promise((r) => setTimeout(r, 1500));
    rec.stop();
    await stopped;
    clearInterval(draw);
    const bytes = new Uint8Array(await new Blob(parts, { type: 'video/webm' }).arrayBuffer());
    let s = '';
    for (const x of bytes) s += String.fromCharCode(x);
    return btoa(s);
  });
  return Buffer.from(b64, 'base64');
}

interface Fetched {
  url: string;
  status: number;
  range: string | undefined;
}

/** Waits until the page's media element has data to play (readyState ≥ 2) and plays past 0.2 s. */
async function playsIn(page: Page, selector: string): Promise<{ tag: string; readyState: number; currentTime: number }> {
  await until(`${selector} has data (readyState ≥ 2)`, () => page.evaluate((sel) => ((document.querySelector(sel) as HTMLMediaElement | null)?.readyState ?? 0) >= 2, selector), 20_000);
  await page.evaluate((sel) => {
    const el = document.querySelector(sel) as HTMLMediaElement;
    el.muted = true;
    return el.play().catch(() => {});
  }, selector);
  await until(`${selector} plays`, () => page.evaluate((sel) => (document.querySelector(sel) as HTMLMediaElement).currentTime > 0.2, selector), 15_000);
  return page.evaluate((sel) => {
    const el = document.querySelector(sel) as HTMLMediaElement;
    return { tag: el.tagName.toLowerCase(), readyState: el.readyState, currentTime: el.currentTime };
  }, selector);
}

test('audio and video files of a torrent play in the page and in a tab, with Range, within the security headers', async (t) => {
  const node = await startTestServer(t);
  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/torrents`);

  const webm = await recordWebm(page);
  assert.ok(webm.length > 1000, `a recorded WebM (${webm.length} bytes)`);
  const fd = new FormData();
  fd.append('file', new Blob([new Uint8Array(webm)]), 'media-pack/clip.webm');
  fd.append('file', new Blob([new Uint8Array(sineWav(3))]), 'media-pack/tone.wav');
  fd.append('file', new Blob(['WEBVTT\n\n00:00.000 --> 00:01.000\nHello from the torrent\n']), 'media-pack/clip.en.vtt');
  fd.append('file', new Blob(['<script>alert(1)</script>']), 'media-pack/page.html');
  const up = await nodeFetch(node, '/api/torrents', { method: 'POST', body: fd });
  assert.equal(up.status, 201, await up.clone().text());
  const { infoHash } = (await up.json()) as { infoHash: string };
  const detail = await nodeJson<{ files: { index: number; path: string }[] }>(node, `/api/torrents/${infoHash}`);
  const indexOf = (name: string) => detail.files.find((f) => f.path.endsWith(name))!.index;

  const errors = collectErrors(page);
  const fetched: Fetched[] = [];
  const record = (p: Page) =>
    p.on('response', (r) => {
      if (!/\/files\/\d+/.test(r.url())) return;
      void r.request().allHeaders().then((h) => fetched.push({ url: r.url(), status: r.status(), range: h.range }));
    });
  record(page);

  await page.goto(`${node.url}/#/torrents/${infoHash}`);
  const panel = page.locator('[data-testid="detail-panel"]');
  const fileRow = (name: string) => panel.locator('[data-testid="file-row"]', { hasText: name });

  await t.test('the video plays in the page (torrent-play → media-player), fetched with Range', async () => {
    await fileRow('clip.webm').locator('[data-testid="torrent-play"]').click();
    const played = await playsIn(page, '[data-testid="media-player"]');
    assert.equal(played.tag, 'video');
    await screenshot(page, 'media-01-video-in-panel');
    // Its subtitles beside it (clip.en.vtt) come as a track, loaded from the node.
    await until('the subtitle track loaded', () => page.evaluate(() => (document.querySelector('[data-testid="media-player"] track') as HTMLTrackElement | null)?.readyState === 2), 10_000);
    assert.equal(await page.evaluate(() => (document.querySelector('[data-testid="media-player"]') as HTMLVideoElement).textTracks[0]?.language), 'en');
    const serious = (await runAxe(page)).filter(isSerious);
    assert.deepEqual(serious, [], describeViolations(serious));
    const mine = fetched.filter((f) => f.url.endsWith(`/files/${indexOf('clip.webm')}`));
    assert.ok(mine.length > 0, 'the player fetched the file');
    assert.ok(mine.every((f) => f.range && f.status === 206), `every request used Range and got 206: ${JSON.stringify(mine)}`);
  });

  await t.test('the audio plays in the page', async () => {
    await fileRow('tone.wav').locator('[data-testid="torrent-play"]').click();
    const played = await playsIn(page, '[data-testid="media-player"]');
    assert.equal(played.tag, 'audio');
    const mine = fetched.filter((f) => f.url.endsWith(`/files/${indexOf('tone.wav')}`));
    assert.ok(mine.length > 0 && mine.every((f) => f.range && f.status === 206), JSON.stringify(mine));
    assert.equal(await fileRow('page.html').locator('[data-testid="torrent-play"]').count(), 0, 'no Play for what is not audio or video');
  });

  await t.test('Open: the file opened in a tab of its own plays there', async () => {
    const [tab] = await Promise.all([context.waitForEvent('page'), fileRow('tone.wav').locator('[data-testid="file-open"]').click()]);
    const tabErrors = collectErrors(tab);
    await tab.waitForLoadState();
    const played = await playsIn(tab, 'video, audio');
    assert.ok(played.readyState >= 2);
    await tab.close();
    assert.deepEqual(tabErrors, []);
  });

  await t.test('headers: media playable by this origin only; other types keep the sandbox and nosniff', async () => {
    const media = await nodeFetch(node, `/api/torrents/${infoHash}/files/${indexOf('tone.wav')}`, { headers: { range: 'bytes=0-99' } });
    assert.equal(media.status, 206);
    assert.equal(media.headers.get('content-type'), 'audio/wav');
    assert.equal(media.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(media.headers.get('cross-origin-resource-policy'), 'same-origin');
    const mediaCsp = media.headers.get('content-security-policy') ?? '';
    assert.doesNotMatch(mediaCsp, /sandbox/);
    assert.match(mediaCsp, /default-src 'none'/);
    assert.match(mediaCsp, /script-src 'none'|default-src 'none'/);
    await media.arrayBuffer();

    const html = await nodeFetch(node, `/api/torrents/${infoHash}/files/${indexOf('page.html')}`);
    assert.equal(html.headers.get('content-type'), 'application/octet-stream');
    assert.equal(html.headers.get('x-content-type-options'), 'nosniff');
    assert.match(html.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.match(html.headers.get('content-disposition') ?? '', /^attachment/);
    await html.arrayBuffer();
  });

  assert.deepEqual(errors, [], 'no errors in the page');
});

test('a file still downloading plays in the page as its pieces arrive (the node fetches the played range first)', async (t) => {
  const node = await startTestServer(t);
  const work = await tempDir(t, 'media-seed');
  // 80 s of audio (7 MB, 431 pieces of 16 KiB), seeded by libtorrent at 128 KiB/s: ~55 s to
  // download. The first requests (a pipeline of 32 blocks: 4 s) go out before the player asks;
  // then the played range comes first, so it plays long before half of it is there — with room
  // for a loaded machine's slow browser (at 14 s for the whole file, one run had 89% before it played).
  await writeFile(join(work, 'long-tone.wav'), sineWav(80, 44_100));
  const made = lt(t, ['create', join(work, 'long-tone.wav'), join(work, 'long-tone.torrent'), '--piece-length', '16384']);
  const { infoHash } = (await made.waitFor('created', 30_000)) as { infoHash: string };
  const seeder = lt(t, ['seed', join(work, 'long-tone.torrent'), work, '--upload-rate', '131072']);
  const { port } = (await seeder.waitFor('listening', 30_000)) as { port: number };
  await seeder.waitFor('seeding', 30_000);

  const context = await launchBrowser(t);
  const page = await context.newPage();
  await openAsOwner(page, `${node.url}/#/torrents`);
  const errors = collectErrors(page);
  const ranges: string[] = [];
  page.on('request', (r) => {
    if (/\/files\/\d+/.test(r.url())) void r.allHeaders().then((h) => ranges.push(h.range ?? 'none'));
  });
  const add = await nodeFetch(node, '/api/torrents', { method: 'POST', body: JSON.stringify({ uri: `magnet:?xt=urn:btih:${infoHash}`, peers: [`127.0.0.1:${port}`] }) });
  assert.ok(add.ok, `${add.status} ${await add.text()}`);

  await page.goto(`${node.url}/#/torrents/${infoHash}`);
  const panel = page.locator('[data-testid="detail-panel"]');
  await panel.locator('[data-testid="file-row"]').first().waitFor({ timeout: 30_000 });
  await panel.locator('[data-testid="torrent-play"]').first().click();
  const played = await playsIn(page, '[data-testid="media-player"]');
  const { progress, state } = await nodeJson<{ progress: number; state: string }>(node, `/api/torrents/${infoHash}`);
  await screenshot(page, 'media-02-playing-while-downloading');
  assert.equal(played.tag, 'audio');
  assert.ok(progress < 0.5 && state === 'downloading', `still downloading while it plays (state ${state}, progress ${progress})`);
  assert.ok(ranges.length > 0 && ranges.every((r) => r.startsWith('bytes=')), `Range requests: ${ranges.join(', ')}`);
  assert.deepEqual(errors, []);
});
