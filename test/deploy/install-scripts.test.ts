// The root package.json's allowScripts covers every dependency with an install script, so npm 11
// installs without its "not yet covered by allowScripts" warning and a stricter npm
// (--strict-allow-scripts, or a release that blocks unreviewed scripts) still runs them: the `node`
// devDependency's preinstall (Node 24 itself) and the native addons' builds. @foundry-rs/anvil's
// postinstall is declared false: it only downloads the binary from the registry when the platform
// package is missing, and packages/chain resolves that platform package itself (a clear error if absent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { REPO } from './deploy-helpers.ts';

test('npm finds no installed package with an install script that allowScripts does not cover', () => {
  const r = spawnSync('npm', ['install-scripts', 'ls', '--json'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const pending = (JSON.parse(r.stdout) as { allowScripts: { name: string }[] }).allowScripts;
  assert.deepEqual(pending.map((p) => p.name), [], 'declare them in package.json allowScripts (npm install-scripts approve <pkg>)');
  const declared = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> }).allowScripts;
  for (const name of ['node', 'bufferutil', 'utf-8-validate', 'utp-native']) assert.equal(declared[name], true, name);
  assert.equal(declared['@foundry-rs/anvil'], false, 'anvil comes from its platform package, never a download at install');
});

test('what those scripts install works: the pinned Node 24 and the native modules load', () => {
  const v = spawnSync(join(REPO, 'node_modules/.bin/node'), ['--version'], { encoding: 'utf8' });
  assert.match(v.stdout, /^v24\./);
  const require = createRequire(join(REPO, 'package.json'));
  assert.equal(typeof (require('node-datachannel') as { PeerConnection: unknown }).PeerConnection, 'function');
  // Their native bindings, not the JavaScript fallbacks some of them would quietly use.
  const load = require('node-gyp-build') as (dir: string) => unknown;
  for (const addon of ['bufferutil', 'utf-8-validate', 'utp-native']) {
    assert.ok(load(dirname(require.resolve(`${addon}/package.json`))), `${addon}'s native binding`);
  }
});
