// @cascade/web: the browser app's build output, for the server to serve.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Directory holding the built app (index.html + assets). */
export const webDistDir = fileURLToPath(new URL('./dist/', import.meta.url));
const webRoot = fileURLToPath(new URL('./', import.meta.url));

export function isWebBuilt(): boolean {
  return existsSync(webDistDir + 'index.html');
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

/** Builds the app unless dist/index.html already exists. */
export async function ensureWebBuilt(opts: { quiet?: boolean } = {}): Promise<void> {
  if (!isWebBuilt()) await buildWeb(opts);
}
