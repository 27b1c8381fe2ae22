// The built app is rebuilt before browser tests when any source that goes into it changed: not only
// the app's own folder but every workspace package the bundle imports. Onion circuits were once
// missing from that list, so a fix in packages/onion ran against the old bundle in every browser test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { webSources } from '@cascade/web';

test('every package the bundle imports counts as a source of the built app; server-only ones do not', () => {
  const packages = new Set(webSources().filter((p) => basename(dirname(p)) === 'packages').map((p) => basename(p)));
  for (const bundled of ['engine', 'onion', 'chat', 'identity', 'private-shares', 'shapes', 'assistant']) {
    assert.ok(packages.has(bundled), `${bundled} is not watched: ${[...packages].join(', ')}`);
  }
  for (const serverOnly of ['node', 'http', 'cli', 'cluster', 'tracker']) assert.ok(!packages.has(serverOnly), `${serverOnly} is watched`);
});
