// Who runs BEP 14 local service discovery: `serve` by the lsd setting, seed and download only when
// asked, and no node started under `node --test` or with CASCADE_LSD=off (npm test and the
// benchmarks set it), so that no test's node multicasts onto this machine's LAN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startNode, silentLog } from '@cascade/node';
import { effectiveLsd } from '../src/lsd.ts';
import { networkPlugin } from '../src/plugin.ts';
import { tempDir } from '../../node/test/helpers.ts';

test('effectiveLsd: CASCADE_LSD first, then the test runner\'s guard, then the command line and the setting', () => {
  const none = {};
  assert.equal(effectiveLsd('setting', true, none), true, 'serve with the setting on');
  assert.equal(effectiveLsd('setting', false, none), false, 'serve with the setting off');
  assert.equal(effectiveLsd('off', true, none), false, 'serve --no-lsd');
  assert.equal(effectiveLsd('on', false, none), true, 'download --lsd');
  assert.equal(effectiveLsd(undefined, true, none), false, 'an embedder that does not ask');
  assert.equal(effectiveLsd('on', true, { CASCADE_LSD: 'off' }), false, 'npm test and the benchmarks');
  assert.equal(effectiveLsd('on', true, { NODE_TEST_CONTEXT: 'child-v8' }), false, 'a test file run on its own');
  assert.equal(effectiveLsd('off', false, { CASCADE_LSD: ' ON ', NODE_TEST_CONTEXT: 'child-v8' }), true, 'a lab test inside its namespaces');
  assert.equal(effectiveLsd('setting', true, { CASCADE_LSD: 'maybe' }), true, 'an unknown value changes nothing');
});

test('a node started as `serve` starts one, under `node --test`, stays off the LAN whatever the setting says', async (t) => {
  const env = process.env.CASCADE_LSD;
  delete process.env.CASCADE_LSD; // only the runner's own guard (NODE_TEST_CONTEXT) is left
  t.after(() => (env === undefined ? delete process.env.CASCADE_LSD : (process.env.CASCADE_LSD = env)));
  assert.ok(process.env.NODE_TEST_CONTEXT, 'run by node --test');
  const dir = tempDir(t);
  // Loopback only: were the guard to fail, the sockets would refuse (and say so) rather than multicast.
  const node = await startNode({ stateDir: join(dir, 'state'), port: 0, host: '127.0.0.1', dht: false, dhtBootstrap: [], trackers: [] }, silentLog, { network: networkPlugin({ lsd: 'setting' }) });
  t.after(() => node.stop());
  assert.equal(node.model.getSettings().lsd, true, 'on by default, as in libtorrent');
  assert.deepEqual(node.health().lsd, { enabled: false, families: [], error: null, sent: 0, received: 0, dropped: 0, peers: 0, peerHosts: [], peersByHost: {} });
  await node.model.setSettings({ lsd: false });
  await node.model.setSettings({ lsd: true });
  assert.deepEqual((node.health().lsd as { error: unknown }).error, null, 'switching the setting does not start it either');
});
