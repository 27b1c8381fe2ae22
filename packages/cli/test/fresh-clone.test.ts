// `cascade serve` on a fresh clone (no packages/web/dist) serves the web app, not the "web app is
// not built" page: the README lists `npx cascade serve` as what `npm start` runs (issue 11, defect 3).
// The clone is a copy of packages/ without dist, beside node_modules links to the real installs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, symlinkSync, existsSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function freshTree(dir: string): void {
  for (const f of ['package.json', 'tsconfig.json']) cpSync(path.join(ROOT, f), path.join(dir, f));
  cpSync(path.join(ROOT, 'packages'), path.join(dir, 'packages'), {
    recursive: true,
    filter: (src) => !/[/\\](dist|node_modules|\.build-lock)$/.test(src),
  });
  const nm = path.join(dir, 'node_modules');
  mkdirSync(path.join(nm, '@cascade'), { recursive: true });
  for (const name of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name === '@cascade' || name === '.bin') continue;
    symlinkSync(path.join(ROOT, 'node_modules', name), path.join(nm, name));
  }
  for (const pkg of readdirSync(path.join(dir, 'packages'))) {
    symlinkSync(path.join(dir, 'packages', pkg), path.join(nm, '@cascade', pkg));
  }
}

test('cascade serve on a fresh clone builds and serves the web app', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  freshTree(dir);
  assert.equal(existsSync(path.join(dir, 'packages/web/dist')), false);
  const child = spawn(process.execPath, [
    path.join(dir, 'packages/cli/bin/cascade.js'), 'serve', '--json', '--http-port', '0', '--port', '0', '--tracker-port', '0', '--no-dht',
    '--state-dir', path.join(dir, 'state'),
  ], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 100_000, killSignal: 'SIGKILL', env: { ...process.env, CASCADE_PORT_MAPPING: 'off' } });
  t.after(() => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      const m = /"event":"listening"[^\n]*"url":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${buf}`)));
  });
  const page = await (await fetch(url)).text();
  assert.doesNotMatch(page, /not built/);
  const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(page);
  assert.ok(script, `the page loads the app bundle: ${page.slice(0, 300)}`);
  const bundle = await fetch(`${url}/${script[1]}`);
  assert.equal(bundle.status, 200);
  assert.ok((await bundle.text()).length > 10_000);
});
