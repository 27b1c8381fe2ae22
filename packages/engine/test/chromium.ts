// Chromium for every browser test file (the engine's, the web app's, chat's): launched the way
// ../../../../shared/browser-webrtc.md requires (loopback-only; run inside a network namespace with
// only `lo` up), and shared by the tests of a file as contexts of one browser. A Chromium start
// and the processes it keeps running (browser, GPU, network service, zygotes) cost ~1.5 CPU-s to
// start and several more over a test's life; a context is a fresh profile of its own (storage,
// IndexedDB, cookies, permissions) and, to WebRTC, a browser of its own (each page its own peer
// connection). Other packages' tests import this file (tests may share another package's test helpers).
import { after } from 'node:test';
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Closed this long after its last context ends: the next test of the file (its node may take
 *  seconds to start on a loaded machine) gets it without a new start. Playwright kills it when
 *  the process exits in any case. */
const IDLE_MS = 10_000;

let shared: { browser: Promise<Browser>; users: number; idle?: NodeJS.Timeout } | undefined;

// Under the test runner (a file's own process), closed as soon as the file's last test has ended:
// its connection to Chromium keeps the process alive, so the idle wait above added 10 s, with an
// idle Chromium, to every browser file. (A bench importing this is no test file: no hook there.)
if (process.env['NODE_TEST_CONTEXT']) after(closeShared);

async function closeShared(): Promise<void> {
  const s = shared;
  if (!s) return;
  shared = undefined;
  clearTimeout(s.idle);
  await s.browser.then((b) => b.close()).catch(() => {});
}

/** A new context of the file's one Chromium (launched on first use), closed when the test ends. */
export async function sharedContext(t: { after: (fn: () => unknown) => void }, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const s = (shared ??= { browser: launchShared(), users: 0 });
  clearTimeout(s.idle);
  s.users++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--s.users > 0) return;
    s.idle = setTimeout(() => {
      if (shared === s) shared = undefined;
      void s.browser.then((b) => b.close()).catch(() => {});
    }, IDLE_MS);
    s.idle.unref();
  };
  let context: BrowserContext;
  try {
    context = await (await s.browser).newContext({ permissions: ['camera', 'microphone'], ...options });
  } catch (err) {
    // A launch that failed is not kept for the next test.
    if (shared === s) shared = undefined;
    release();
    throw err;
  }
  context.once('close', release);
  t.after(async () => {
    await context.close().catch(() => {});
    release();
  });
  return context;
}

async function launchShared(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
}
