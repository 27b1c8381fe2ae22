// Test helpers for browser tests: a Vite build of browser.ts (the same build a page importing it
// gets), a static file server on 127.0.0.1, and Chromium (./chromium.ts: launched the way
// ../../shared/browser-webrtc.md requires; run inside a network namespace with only `lo` up).
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, HEADLESS_SHELL, sharedContext } from './chromium.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ENTRY = path.resolve(here, '..', 'browser.ts');

/** Builds browser.ts into `outDir`/cascade.js as an ES module; returns Vite/Rolldown's warnings. */
export async function buildBrowserBundle(outDir: string): Promise<{ file: string; warnings: string[] }> {
  const { build, createLogger } = await import('vite');
  const warnings: string[] = [];
  const logger = createLogger('warn', { allowClearScreen: false });
  const warn = logger.warn;
  logger.warn = (msg, opts) => {
    warnings.push(msg);
    warn(msg, opts);
  };
  await build({
    configFile: false,
    root: path.dirname(ENTRY),
    logLevel: 'warn',
    customLogger: logger,
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      sourcemap: false,
      target: 'es2022',
      lib: { entry: ENTRY, formats: ['es'], fileName: () => 'cascade.js' },
      rollupOptions: {
        onwarn(w, handler) {
          warnings.push(String(w.message ?? w));
          handler(w);
        },
      },
    },
  });
  return { file: path.join(outDir, 'cascade.js'), warnings };
}

/** The page the browser tests load: the bundle as `window.cascade`, `window.ready` once loaded. */
export const INDEX_HTML = `<!doctype html><meta charset="utf-8"><title>cascade test</title>
<script type="module">import * as cascade from './cascade.js'; window.cascade = cascade; window.ready = true;</script>`;

/** Serves `dir` on 127.0.0.1 (plus `extra` files by URL path). */
export async function serveStatic(dir: string, extra: Record<string, string> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const types: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };
  const server = http.createServer(async (req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = extra[p] ?? path.join(dir, path.normalize(p === '/' ? '/index.html' : p));
    if (!extra[p] && !file.startsWith(dir)) return void res.writeHead(403).end();
    try {
      const body = await fs.readFile(file);
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

export { CHROMIUM_ARGS };

/** A fresh Chromium profile (its own process), as browser-webrtc.md prescribes. */
export async function launchChromium(t: { after: (fn: () => unknown) => void }) {
  const { chromium } = await import('playwright-core');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cascade-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: HEADLESS_SHELL,
    headless: true,
    permissions: ['camera', 'microphone'],
    args: CHROMIUM_ARGS,
  });
  t.after(async () => {
    await context.close().catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  });
  return context;
}

/** launchChromium's browser as a new context of the one Chromium the file's tests share
 *  (./chromium.ts): no Chromium start (~1.5 CPU-s) per test. Two contexts of it are two browsers to
 *  WebRTC: each page its own peer connection. */
export function chromiumContext(t: { after: (fn: () => unknown) => void }) {
  return sharedContext(t);
}
