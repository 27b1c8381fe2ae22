// Issue 23: the node's portMapping setting through the other doors — Transmission's
// port-forwarding-enabled (Debian's transmission-remote -m / -M) and qBittorrent's `upnp`
// preference (@ctrl/qbittorrent) turn it on and off; on keeps a protocol chosen in Cascade, off is
// "off". The test node is started by startServer, which maps nothing (only `cascade serve` does):
// these tests change the setting and send nothing to any gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startQbNode } from './qbittorrent-helpers.ts';
import { remoteOk, rpcClient } from './transmission-helpers.ts';

test('Transmission RPC: port-forwarding-enabled reads and sets the portMapping setting', { timeout: 60_000 }, async (t) => {
  const { s } = await startQbNode(t);
  const rpc = rpcClient(s);
  const setting = async () => (await s.json('/api/settings')).body.portMapping as string;
  assert.equal(await setting(), 'auto');
  assert.equal((await rpc.ok('session-get', { fields: ['port-forwarding-enabled'] }))['port-forwarding-enabled'], true);

  await remoteOk(s, ['--no-portmap']);
  assert.equal(await setting(), 'off');
  assert.equal((await rpc.ok('session-get'))['port-forwarding-enabled'], false);
  await remoteOk(s, ['--portmap']);
  assert.equal(await setting(), 'auto', 'on again: auto');

  // A protocol chosen in Cascade survives Transmission's "on".
  assert.equal((await s.json('/api/settings', { method: 'PATCH', json: { portMapping: 'natpmp' } })).status, 200);
  await rpc.ok('session-set', { 'port-forwarding-enabled': true });
  assert.equal(await setting(), 'natpmp');
});

test('qBittorrent Web API: the upnp preference reads and sets the portMapping setting', { timeout: 60_000 }, async (t) => {
  const { s, client } = await startQbNode(t);
  const setting = async () => (await s.json('/api/settings')).body.portMapping as string;
  assert.equal((await client.getPreferences()).upnp, true);
  await client.setPreferences({ upnp: false });
  assert.equal(await setting(), 'off');
  assert.equal((await client.getPreferences()).upnp, false);
  await client.setPreferences({ upnp: true });
  assert.equal(await setting(), 'auto');
  assert.equal((await s.json('/api/settings', { method: 'PATCH', json: { portMapping: 'upnp' } })).status, 200);
  await client.setPreferences({ upnp: true });
  assert.equal(await setting(), 'upnp', 'a protocol chosen in Cascade survives qBittorrent\'s "on"');
});
