// @cascade/web: the browser app's build output, for the server to serve, and the build itself.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory holding the built app (index.html + assets). */
export const webDistDir = fileURLToPath(new URL('./dist/', import.meta.url));
const webRoot = fileURLToPath(new URL('./', import.meta.url));
const packagesDir = join(webRoot, '..');

/** What the bundle is made of: the app, and every workspace package it depends on (the chat UI,
 *  the browser engine, onion circuits, …), followed through their own dependencies, so an edit in
 *  any of them rebuilds the app before a browser test runs it. Read when first asked, not when the
 *  server imports this module for webDistDir. */
export function webSources(): string[] {
  return [
    join(webRoot, 'src'),
    join(webRoot, 'index.html'),
    join(webRoot, 'vite.config.ts'),
    // The manifest, icons and service worker the build adds (scripts/pwa/plugin.ts).
    join(webRoot, 'scripts/pwa'),
    join(webRoot, 'package.json'),
    ...bundledPackages().map((name) => join(packagesDir, name)),
  ];
}

/** Folders of a package that never reach the bundle. */
const NOT_BUNDLED = new Set(['test', 'node_modules', 'dist', 'bench']);

/** The workspace packages the app's `dependencies` reach (devDependencies serve only the tests). */
function bundledPackages(): string[] {
  const seen = new Set<string>();
  const visit = (dir: string) => {
    let manifest: { dependencies?: Record<string, string> };
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof manifest;
    } catch {
      return;
    }
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      if (!dep.startsWith('@cascade/')) continue;
      const name = dep.slice('@cascade/'.length);
      if (seen.has(name)) continue;
      seen.add(name);
      visit(join(packagesDir, name));
    }
  };
  visit(webRoot);
  return [...seen].sort();
}

export function isWebBuilt(): boolean {
  return existsSync(join(webDistDir, 'index.html'));
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory() && NOT_BUNDLED.has(e.name)) continue;
    newest = Math.max(newest, e.isDirectory() ? newestMtime(join(path, e.name)) : e.isFile() ? statSync(join(path, e.name)).mtimeMs : 0);
  }
  return newest;
}

/** True when dist is missing or older than any source that goes into it. */
export function isWebStale(): boolean {
  if (!isWebBuilt()) return true;
  const built = statSync(join(webDistDir, 'index.html')).mtimeMs;
  return webSources().some((p) => newestMtime(p) > built);
}

/** Runs `vite build` for packages/web (in a child process, on the current node). */
export function buildWeb(opts: { quiet?: boolean } = {}): Promise<void> {
  // vite's package exports hide bin/, so go through its package.json.
  const vite = fileURLToPath(new URL('./bin/vite.js', import.meta.resolve('vite/package.json')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', '--logLevel', opts.quiet ? 'error' : 'info'], {
      cwd: webRoot,
      stdio: opts.quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}`))));
  });
}

/** Builds the app when dist is missing or out of date. Resolves with whether it built. Test files
 *  running in parallel each call this: a lock directory lets one build while the others wait. */
export async function ensureWebBuilt(opts: { quiet?: boolean } = {}): Promise<boolean> {
  if (!isWebStale()) return false;
  const lock = join(webRoot, '.build-lock');
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // A lock left by a killed build goes stale after a few minutes.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`timed out waiting for another web build (${lock})`);
      await sleep(200);
    }
  }
  try {
    if (!isWebStale()) return false;
    await buildWeb(opts);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
