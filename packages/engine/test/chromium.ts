// Chromium for every browser test file (the engine's, the web app's, chat's): launched the way
// ../../../../shared/browser-webrtc.md requires (loopback-only; run inside a network namespace with
// only `lo` up), and shared by the tests of a file as contexts of one browser. A Chromium start
// and the processes it keeps running (browser, GPU, network service, zygotes) cost ~1.5 CPU-s to
// start and several more over a test's life; a context is a fresh profile of its own (storage,
// IndexedDB, cookies, permissions) and, to WebRTC, a browser of its own (each page its own peer
// connection). Other packages' tests import this file (tests may share another package's test helpers).
import { after } from 'node:test';
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';

/**
 * The browser the tests drive: Debian's chromium-headless-shell, Chromium's own headless build (the
 * one Playwright itself tests with), the same Blink, V8, WebRTC and media stack as /usr/bin/chromium
 * without its desktop shell. Full Chromium in headless mode still makes a browser window per context,
 * with a top-chrome WebUI renderer (~1.7 CPU-s each) and its window machinery in the browser process:
 * measured here with 4 contexts one after another, each a page of 300 rows and a spinner for 3 s,
 * 13.6-15.3 CPU-s of Chromium processes with /usr/bin/chromium against 3.7 with the shell; a start
 * 1.0-1.5 s against 0.3-0.5. What needs the desktop browser (its install prompt's checks, Lighthouse
 * by DevTools port: web/test/pwa) launches FULL_CHROMIUM.
 */
export const HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';
export const FULL_CHROMIUM = '/usr/bin/chromium';

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

type Shared = { browser: Promise<Browser>; users: number; idle?: NodeJS.Timeout };
/** The file's Chromium of each executable (the shell; the desktop one where a test needs it). */
const shared = new Map<string, Shared>();

// Under the test runner (a file's own process), closed as soon as the file's last test has ended:
// its connection to Chromium keeps the process alive, so the idle wait above added 10 s, with an
// idle Chromium, to every browser file. (A bench importing this is no test file: no hook there.)
if (process.env['NODE_TEST_CONTEXT']) after(closeShared);

async function closeShared(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  for (const s of all) clearTimeout(s.idle);
  await Promise.all(all.map((s) => s.browser.then((b) => b.close()).catch(() => {})));
}

/** A new context of the file's one Chromium (launched on first use), closed when the test ends.
 *  `executable`: FULL_CHROMIUM for what only the desktop browser does (the shell reads
 *  Notification.permission as 'denied' whatever was granted: web/test/notifications). */
export async function sharedContext(t: { after: (fn: () => unknown) => void }, options: BrowserContextOptions = {}, executable = HEADLESS_SHELL): Promise<BrowserContext> {
  const s = shared.get(executable) ?? { browser: launchShared(executable), users: 0 };
  shared.set(executable, s);
  clearTimeout(s.idle);
  s.users++;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (--s.users > 0) return;
    s.idle = setTimeout(() => {
      if (shared.get(executable) === s) shared.delete(executable);
      void s.browser.then((b) => b.close()).catch(() => {});
    }, IDLE_MS);
    s.idle.unref();
  };
  let context: BrowserContext;
  try {
    context = await (await s.browser).newContext({ permissions: ['camera', 'microphone'], ...options });
  } catch (err) {
    // A launch that failed is not kept for the next test.
    if (shared.get(executable) === s) shared.delete(executable);
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

async function launchShared(executable: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: executable, headless: true, args: CHROMIUM_ARGS });
}
