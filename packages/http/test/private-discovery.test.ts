// Private discovery through the API (issue 14): the add option and the PATCH switch, refused
// plainly on a node without directories; with relays, a hidden torrent's announce reaches the
// tracker through a circuit; the flag survives a restart, and a node restarted without its
// directory refuses to load the torrent rather than announce it openly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateIdentity } from '@cascade/identity';
import { startTracker } from '@cascade/tracker';
import { startServer } from '../index.ts';
import { startNodeRelay, type NodeOnion } from '@cascade/node-network/onion';
import { silentLog, type CascadeNode } from '@cascade/node';
import { formWith, patternBytes, startTestServer, testServerOptions } from './server-helpers.ts';

/** The node's private discovery with its client and relay gossip (node.onion, made by @cascade/node-network). */
const onionOf = (node: CascadeNode) => node.onion as NodeOnion;

const until = async <T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

test('without a directory: private discovery is refused plainly, never half-done', async (t) => {
  const s = await startTestServer(t);
  const ih = randomBytes(20).toString('hex');
  const add = await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${ih}`, privateDiscovery: true } });
  assert.equal(add.status, 400);
  assert.match(JSON.stringify(add.body), /--directory/, JSON.stringify(add.body));
  assert.equal((await s.json('/api/torrents')).body.total, 0, 'nothing was added');
  const bad = await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${ih}`, privateDiscovery: 'yes' } });
  assert.equal(bad.status, 400);
  const plain = await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${ih}` } });
  assert.equal(plain.status, 201);
  const detail = (await s.json(`/api/torrents/${ih}`)).body;
  assert.equal(detail.privateDiscovery, false);
  assert.equal(detail.privateDiscoveryAvailable, false);
  const patch = await s.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { privateDiscovery: true } });
  assert.equal(patch.status, 400);
  assert.equal((await s.json(`/api/torrents/${ih}`)).body.privateDiscovery, false);
});

test('with relays: a hidden torrent announces through a circuit; the switch, a restart, and a restart without the directory', { timeout: 90_000 }, async (t) => {
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
  t.after(() => tracker.close());
  const directory = `http://127.0.0.1:${tracker.httpPort}`;
  const relays = await Promise.all(
    ['127.0.0.61', '127.0.0.62', '127.0.0.63'].map((host) =>
      startNodeRelay({ identity: generateIdentity(host), host, port: 0, directories: [directory], exit: true, dhtBootstrap: [] }, silentLog),
    ),
  );
  t.after(() => Promise.all(relays.map((r) => r.close())));

  const s = await startTestServer(t, { onion: { directories: [directory] } });
  const ih = randomBytes(20).toString('hex');
  const magnet = `magnet:?xt=urn:btih:${ih}&tr=${encodeURIComponent(tracker.httpAnnounceUrl)}`;
  const add = await s.json('/api/torrents', { method: 'POST', json: { uri: magnet, privateDiscovery: true } });
  assert.equal(add.status, 201, JSON.stringify(add.body));
  const answered = await until('the hidden announce answered', async () => {
    const d = (await s.json(`/api/torrents/${ih}`)).body;
    const tr = (d.trackers as { url: string; status: string }[]).find((x) => x.url === tracker.httpAnnounceUrl);
    return tr && tr.status === 'ok' ? d : undefined;
  });
  assert.equal(answered.privateDiscovery, true);
  assert.equal(answered.privateDiscoveryAvailable, true);
  assert.ok(onionOf(s.node).client.stats.built >= 1, 'a circuit was built: ' + JSON.stringify(onionOf(s.node).client.stats) + JSON.stringify(answered.trackers));
  assert.deepEqual(tracker.swarm(ih), { complete: 0, incomplete: 0 }, 'a look-up is not listed');
  const health = (await s.json('/api/health')).body.onion;
  assert.deepEqual(health.directories, [directory]);
  assert.equal(health.relays.listed, 3);
  assert.ok(health.circuits.built >= 1 && health.circuits.requests >= 1, JSON.stringify(health));
  assert.equal(health.relay, null);

  const off = await s.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { privateDiscovery: false } });
  assert.equal(off.status, 200, JSON.stringify(off.body));
  assert.equal(off.body.privateDiscovery, false);
  await until('listed once it announces openly', () => (tracker.swarm(ih).incomplete === 1 ? true : undefined));
  const on = await s.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { privateDiscovery: true, tags: ['quiet'] } });
  assert.equal(on.body.privateDiscovery, true);
  assert.deepEqual(on.body.tags, ['quiet']);
  await until('gone from the tracker (stopped)', () => (tracker.swarm(ih).incomplete === 0 ? true : undefined));

  // A restart keeps it hidden; a restart without the directory will not load it.
  const opts = { ...testServerOptions(s.root), onion: { directories: [directory] } };
  await s.close();
  const again = await startServer(opts);
  await again.ready;
  const res = await fetch(`${again.url}/api/torrents/${ih}`, { headers: { authorization: `Bearer ${again.token}` } });
  assert.equal(((await res.json()) as { privateDiscovery: boolean }).privateDiscovery, true);
  await again.close();
  const bare = await startServer(testServerOptions(s.root));
  t.after(() => bare.close());
  await bare.ready;
  const d = (await (await fetch(`${bare.url}/api/torrents/${ih}`, { headers: { authorization: `Bearer ${bare.token}` } })).json()) as { state: string; error: string };
  assert.equal(d.state, 'error');
  assert.match(d.error, /private discovery needs relays/);
});

test('a relay on a public address will not extend to, nor announce to, local or private addresses (no probing the network behind it)', { timeout: 30_000 }, async (t) => {
  const { OnionClient, directoryRelays } = await import('@cascade/onion');
  const { dialRelay } = await import('@cascade/onion/node');
  const tracker = await startTracker({ host: '127.0.0.1', interval: 60 });
  t.after(() => tracker.close());
  const directory = `http://127.0.0.1:${tracker.httpPort}`;
  // Bound to loopback for the test, but told to behave as a public relay does by default.
  const relays = await Promise.all(
    ['127.0.0.64', '127.0.0.65', '127.0.0.66'].map((host) =>
      startNodeRelay({ identity: generateIdentity(host), host, port: 0, directories: [directory], exit: true, dhtBootstrap: [], privateTargets: false }, silentLog),
    ),
  );
  t.after(() => Promise.all(relays.map((r) => r.close())));
  // Three hops: the first relay will not extend to a local address.
  const three = new OnionClient({ relays: directoryRelays([directory]), dial: (a, s) => dialRelay(a, s, '127.0.0.9') });
  t.after(() => three.close());
  await assert.rejects(three.build(), /refused: .*local or private address/);
  // One hop straight to an exit: it will not announce to local or private trackers either.
  const client = new OnionClient({ relays: directoryRelays([directory]), dial: (a, s) => dialRelay(a, s, '127.0.0.9'), hops: 1 });
  t.after(() => client.close());
  for (const url of [tracker.httpAnnounceUrl, 'http://10.1.2.3:6969/announce', 'udp://[::1]:6969/announce', 'http://169.254.169.254/latest/announce']) {
    const a = (await client.request({ op: 'announce', url, infoHash: 'ab'.repeat(20), peerId: 'cd'.repeat(20), port: 0, uploaded: 0, downloaded: 0, left: 1 })) as { ok: boolean; error?: string };
    assert.equal(a.ok, false, url);
    assert.match(a.error ?? '', /local or private address/, url);
  }
});

test('nodes find relays through each other: a peer that proved its identity is told the relays its partner knows', { timeout: 60_000 }, async (t) => {
  const listed = await startTracker({ host: '127.0.0.1', interval: 60 });
  const empty = await startTracker({ host: '127.0.0.1', interval: 60 });
  t.after(() => Promise.all([listed.close(), empty.close()]));
  const full = `http://127.0.0.1:${listed.httpPort}`;
  const relays = await Promise.all(
    ['127.0.0.67', '127.0.0.68', '127.0.0.69'].map((host) =>
      startNodeRelay({ identity: generateIdentity(host), host, port: 0, directories: [full], exit: true, dhtBootstrap: [] }, silentLog),
    ),
  );
  t.after(() => Promise.all(relays.map((r) => r.close())));
  const a = await startTestServer(t, { onion: { directories: [full] } });
  const b = await startTestServer(t, { onion: { directories: [`http://127.0.0.1:${empty.httpPort}`] } });
  await onionOf(a.node).client.build().then((c) => c.destroy('warm: A has fetched its directory'));
  await assert.rejects(onionOf(b.node).client.build(), /not enough relays/);

  const up = await a.json('/api/torrents', { method: 'POST', body: formWith([['notes.txt', patternBytes(100_000, 5)]]) });
  assert.equal(up.status, 201);
  const add = await b.json('/api/torrents', { method: 'POST', json: { uri: up.body.magnet, peers: [`127.0.0.1:${a.node.session.port}`] } });
  assert.equal(add.status, 201, JSON.stringify(add.body));
  const learned = await until('B has learned the relays from A', () => (onionOf(b.node).gossip.relays().length === 3 ? onionOf(b.node).gossip.relays() : undefined));
  assert.deepEqual(learned.map((r) => r.id).sort(), relays.map((r) => r.descriptor().id).sort());
  const c = await onionOf(b.node).client.build();
  assert.equal(c.path.length, 3);
  c.destroy('done');
});
