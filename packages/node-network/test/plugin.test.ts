// The node and its network plug-in (issue 64): a node started without one probes nothing, maps no
// port, has no private discovery (an add that asks for it is refused plainly) and still puts the
// iceServers setting in force; with one it has the probe; and a run loads only what it uses: no
// onion client without directories, no port mapper unless it maps.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { startNode, silentLog, NodeError, type CascadeNode } from '@cascade/node';
import { tempDir } from '../../node/test/helpers.ts';
import { networkPlugin, type NetworkOptions } from '../index.ts';

async function node(t: TestContext, network?: NetworkOptions): Promise<CascadeNode> {
  const n = await startNode({ stateDir: join(tempDir(t), 'state'), port: 0, host: '127.0.0.1', dht: false, dhtBootstrap: [], trackers: [] }, silentLog, network ? { network: networkPlugin(network) } : {});
  t.after(() => n.stop());
  return n;
}

test('without the plug-in: no probe, no mapping, no private discovery; the iceServers setting still applies', async (t) => {
  const n = await node(t);
  assert.equal(n.network, undefined);
  assert.equal(n.portMapping, undefined);
  assert.equal(n.onion, undefined);
  const h = n.health();
  assert.equal(h.network, null);
  assert.equal(h.onion, null);
  await assert.rejects(
    n.addWith(`magnet:?xt=urn:btih:${'ab'.repeat(20)}`, {}, { privateDiscovery: true }),
    (err: unknown) => err instanceof NodeError && err.kind === 'invalid' && /--directory/.test(err.message),
  );
  const applied: unknown[] = [];
  const set = n.session.setIceServers?.bind(n.session);
  n.session.setIceServers = (list, opts) => (applied.push(list), set?.(list, opts));
  const ice = [{ urls: ['stun:127.0.0.1:3478'] }];
  await n.model.setSettings({ iceServers: ice });
  assert.deepEqual(n.iceServers(), ice);
  assert.deepEqual(applied, [ice], 'in force at once');
});

test('with the plug-in: the network is probed; a node that maps under `node --test` maps nothing', async (t) => {
  const n = await node(t, { lsd: 'off', mapPorts: true, portMappingSetting: 'upnp' });
  assert.ok(n.network, 'the probe runs');
  await n.network.refresh();
  const s = n.network.status();
  assert.equal(typeof s.probedAt, 'number');
  assert.equal(s.nat, 'unknown', 'on loopback, with no tracker, nobody tells the way out');
  assert.equal(n.model.getSettings().portMapping, 'upnp', '--port-mapping is stored as the setting');
  assert.deepEqual(n.portMapping?.status().error, 'port mapping is off', 'NODE_TEST_CONTEXT keeps the gateway out of it');
  assert.deepEqual((n.health().network as { portMapping: unknown }).portMapping, n.portMapping?.status());
  assert.equal(n.onion, undefined, 'no directories, no private discovery');
});

test('a download\'s network loads neither the onion client nor the port mapper', () => {
  // What the CLI's download does with no --directory: the plug-in made, its private discovery asked for.
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
    const { networkPlugin } = await import('@cascade/node-network');
    const plugin = networkPlugin({ lsd: 'off' });
    const none = await plugin.privateDiscovery({ host: undefined, out: undefined, identified: undefined });
    console.log(JSON.stringify({ none: none === undefined, loaded }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { none, loaded } = JSON.parse(r.stdout) as { none: boolean; loaded: string[] };
  assert.ok(none);
  assert.ok(loaded.some((u) => u.endsWith('/node-network/src/node-network.ts')), 'the probe is loaded');
  for (const part of ['/node-network/src/onion.ts', '/node-network/src/relay-gossip.ts', '/packages/onion/', '/node-network/src/port-mapping.ts', '/reachability/src/mapping/', 'nat-port-mapper']) {
    assert.ok(!loaded.some((u) => u.includes(part)), `${part} is not loaded: ${loaded.filter((u) => u.includes(part)).join(', ')}`);
  }
});
