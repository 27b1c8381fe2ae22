// Commands load what they run (issue 64 item 4): a `cascade download` of a public torrent, to its
// end, loads none of the cluster's, private shares', the market's, content ids', RSS's, chat's, the
// assistant's or the HTTP server's code, nor the chain's client (viem): each is imported where it
// is used, and such a download uses none of them. Counted by module URL, not timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tempDir } from './helpers.ts';
import { cascadeHere } from './node-process.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const HOOK = join(import.meta.dirname, 'loaded-modules.ts');

/** What a public torrent's download must not load: a package's folder, or an npm package. */
const NOT_LOADED: [string, RegExp][] = [
  ['the cluster', /\/packages\/cluster\//],
  ['private shares', /\/packages\/private-(shares|node)\//],
  ['the market', /\/packages\/market\//],
  ['content ids', /\/packages\/content(-node)?\//],
  ['multiformats (CIDs)', /\/node_modules\/multiformats\//],
  ['RSS', /\/packages\/rss\//],
  ['chat', /\/packages\/chat\//],
  ['the assistant', /\/packages\/(node-)?assistant\//],
  ['the HTTP server', /\/packages\/http\/|\/node_modules\/fastify\//],
  ['the chain client', /\/packages\/chain\/|\/node_modules\/viem\//],
];

test('cascade download of a public torrent loads no cluster, private-share, market or content-id code', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'file.bin'), randomBytes(100_000));
  const torrent = join(dir, 'file.torrent');
  assert.equal((await cascadeHere(['create', join(data, 'file.bin'), '-o', torrent, '--json'])).code, 0);
  // Its data already in the output folder: the download checks it and is done, with no peer to
  // wait for, through the same start, add and finish as any download (default options: receipts on).
  const list = join(dir, 'modules.txt');
  const child = spawn(process.execPath, ['--import', HOOK, MAIN, 'download', torrent, '-o', data, '--port', '0', '--no-dht', '--json', '--state-dir', join(dir, 'state')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CASCADE_HOME: '/nonexistent-cascade-home', CASCADE_PORT_MAPPING: 'off', CASCADE_LSD: 'off', CASCADE_TEST_LOADED_MODULES: list },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, `download exited ${code}: ${stderr}`);
  assert.match(stdout, /"event":"done"/);

  const urls = readFileSync(list, 'utf8').split('\n').filter(Boolean);
  // The hook saw the download's own modules (the engine's among them): an empty list proves nothing.
  assert.ok(urls.some((u) => u.includes('/packages/engine/')), `the engine among ${urls.length} modules`);
  for (const [what, pattern] of NOT_LOADED) {
    const found = urls.filter((u) => pattern.test(u));
    assert.deepEqual(found, [], `a public download loaded ${what}`);
  }
});
