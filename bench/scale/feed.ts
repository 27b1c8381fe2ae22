// The clients of the live feed the benchmark connects while it measures idle CPU "with a page":
// a socket.io-client connection (counting what engine.io delivers, byte for byte) and, unless
// --no-browser, a real headless Chromium page on the torrents view (its WebSocket frames counted).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { io, type Socket } from 'socket.io-client';
import type { RunningNode } from './cascade-node.ts';

export interface FeedCounter {
  /** Bytes and engine.io packets received since the last reset, and the socket.io events by name. */
  bytes: number;
  packets: number;
  events: Record<string, number>;
  reset(): void;
  close(): void;
  /** Resolves once a `torrents` or `torrents:changes` event carries `infoHash` in `state`. */
  waitForState(infoHash: string, state: (s: string) => boolean, timeoutMs: number): Promise<void>;
}

// The list's entries name the hash `infoHash` (older web types said infoHashHex): take either.
type Summary = { infoHash?: string; infoHashHex?: string; state: string };

/** Connects to the torrent feed (websocket only) with the page's session cookie and Origin, as the
 *  page itself does, or else with the node's API token. */
export async function connectFeed(node: RunningNode, cookie?: string): Promise<FeedCounter> {
  const counter: FeedCounter = {
    bytes: 0,
    packets: 0,
    events: {},
    reset() {
      this.bytes = 0;
      this.packets = 0;
      this.events = {};
    },
    close: () => socket.close(),
    waitForState: (infoHash, state, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (list: Summary[] | undefined) => {
          if (list?.some((t) => (t.infoHash ?? t.infoHashHex) === infoHash && state(t.state))) done(null);
        };
        const onList = (m: { torrents?: Summary[] }) => check(m?.torrents);
        const onChanges = (m: { updated?: Summary[] }) => check(m?.updated);
        const timer = setTimeout(() => done(new Error(`the feed did not report ${infoHash} within ${timeoutMs} ms`)), timeoutMs);
        const done = (err: Error | null) => {
          clearTimeout(timer);
          socket.off('torrents', onList);
          socket.off('torrents:changes', onChanges);
          if (err) reject(err);
          else resolve();
        };
        socket.on('torrents', onList);
        socket.on('torrents:changes', onChanges);
      }),
  };
  const socket: Socket = io(node.url, {
    transports: ['websocket'],
    reconnection: false,
    extraHeaders: cookie ? { cookie, origin: new URL(node.url).origin } : { authorization: `Bearer ${node.token}` },
  });
  // engine.io's transport hands every received frame to onData: count it there, before decoding.
  socket.io.on('open', () => {
    const transport = socket.io.engine.transport as unknown as { onData(d: unknown): void };
    const onData = transport.onData.bind(transport);
    transport.onData = (d: unknown) => {
      counter.packets++;
      counter.bytes += typeof d === 'string' ? Buffer.byteLength(d) : ((d as ArrayBuffer).byteLength ?? 0);
      onData(d);
    };
  });
  socket.onAny((name: string) => (counter.events[name] = (counter.events[name] ?? 0) + 1));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (e) => reject(new Error(`socket.io connect: ${e.message}`)));
  });
  return counter;
}

export interface BrowserPage {
  /** The torrents view, signed in as the node's owner. */
  page: Page;
  /** Bytes of WebSocket frames the page received since the last reset. */
  bytes: number;
  frames: number;
  /** Seconds from opening the page to the first torrent-row shown. */
  firstRowsAfter: number | null;
  /** The page's cookies as a Cookie header (its member session). */
  cookie: string;
  reset(): void;
  close(): Promise<void>;
}

/**
 * Chromium (Debian's, via playwright-core) with the launch options of shared/browser-webrtc.md,
 * claiming the fresh node as its owner and showing #/torrents. Only call this inside a network
 * namespace with only `lo` up (run.ts makes one).
 */
export async function openPage(node: RunningNode, stateDir: string): Promise<BrowserPage> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'cascade-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    permissions: ['camera', 'microphone'],
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--allow-loopback-in-peer-connection',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
    viewport: { width: 1280, height: 800 },
  });
  await context.addInitScript(() => {
    try {
      localStorage.setItem('cascade.peer', JSON.stringify({ iceServers: [] }));
    } catch {}
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const result: BrowserPage = {
    page,
    bytes: 0,
    frames: 0,
    firstRowsAfter: null,
    cookie: '',
    reset() {
      this.bytes = 0;
      this.frames = 0;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      result.frames++;
      result.bytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    });
  });
  try {
    await page.goto(`${node.url}/#/torrents`);
    // The first claim needs the one-time code only the machine's owner can read.
    await page.locator('[data-testid="claim-code"]').fill(readFileSync(join(stateDir, 'claim-code'), 'utf8').trim(), { timeout: 60_000 });
    await page.locator('[data-testid="claim-node"]').click({ timeout: 60_000 });
    await page.locator('[data-testid="whoami"].role-owner').waitFor({ timeout: 60_000 });
    // Timed from a fresh load, signed in: what a user opening the torrents view waits for.
    const t0 = performance.now();
    await page.reload();
    await page.locator('[data-testid="torrent-row"]').first().waitFor({ timeout: 120_000 });
    result.firstRowsAfter = (performance.now() - t0) / 1000;
    result.cookie = (await context.cookies(node.url)).map((c) => `${c.name}=${c.value}`).join('; ');
  } catch (err) {
    await result.close();
    throw err;
  }
  return result;
}
