// The checks as functions of what a node shows (NodeView values as a node would hand them over):
// each finding fires on its condition, with its evidence, and stays quiet otherwise. The real broken
// set-ups (trackers, corrupt seeders, full disks, ports) are tested through the server and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks } from '../index.ts';
import type { NodeHealthView, NodeView, TorrentView } from '../index.ts';

const NOW = Date.UTC(2026, 0, 2, 12, 0, 0);
const IH = 'ab'.repeat(20);

function health(over: Partial<NodeHealthView> = {}): NodeHealthView {
  return {
    version: '0.1.0', uptimeSeconds: 600, bittorrentPort: 6881, bittorrentHost: '0.0.0.0', dhtEnabled: true, dhtNodes: 120,
    reachability: 'reachable', incomingPeers: 2, peers: 5, torrents: 1, downloadLimit: 0, uploadLimit: 0, altSpeedEnabled: false,
    maxActiveDownloads: 3, downloadDir: '/data', disk: { free: 50e9, total: 100e9 }, diskErrors: 0, hashFailures: 0, ...over,
  };
}

function torrent(over: Partial<TorrentView> = {}): TorrentView {
  return {
    infoHash: IH, name: 'Film', state: 'downloading', progress: 0.5, length: 1e9, downloadSpeed: 100_000, uploadSpeed: 0, peers: 4, seeds: 2,
    error: null, savePath: '/data', isPrivate: false, addedAt: NOW - 3600_000, stalledReason: null,
    trackers: [{ url: 'udp://tracker.example:6969/announce', status: 'ok', peers: 30, lastReplyAt: NOW - 60_000 }],
    peerList: [], downloadLimit: 0, uploadLimit: 0, queuePosition: 1, remainingBytes: 5e8, ...over,
  };
}

function view(h: NodeHealthView, ts: TorrentView[]): NodeView {
  return { health: () => h, torrents: () => ts, torrent: (ih) => ts.find((t) => t.infoHash === ih) };
}

async function ids(h: NodeHealthView, t?: TorrentView): Promise<string[]> {
  return (await runChecks(view(h, t ? [t] : []), t?.infoHash, NOW)).map((f) => f.id);
}

test('a healthy torrent: one "ok" finding; an unknown one: none', async () => {
  const f = await runChecks(view(health(), [torrent()]), IH, NOW);
  assert.deepEqual(f.map((x) => [x.id, x.severity]), [['no-problem-found', 'ok']]);
  assert.deepEqual(await runChecks(view(health(), []), IH, NOW), []);
});

test('tracker timeouts with counts and times; a tracker that refuses is a tracker-error; private + failing = private-no-dht', async () => {
  const failing = {
    url: 'udp://10.0.0.1:6969/announce', status: 'error' as const, peers: 0, lastError: 'UDP tracker 10.0.0.1:6969 timed out',
    lastErrorAt: NOW - 40_000, failures: 5, failingSince: Date.UTC(2026, 0, 2, 11, 2, 0),
  };
  const f = await runChecks(view(health({ dhtEnabled: false }), [torrent({ trackers: [failing], peers: 0, stalledSeconds: 720 })]), IH, NOW);
  const tu = f.find((x) => x.id === 'tracker-unreachable')!;
  assert.equal(tu.severity, 'problem');
  assert.match(tu.evidence, /udp:\/\/10\.0\.0\.1:6969\/announce failed 5 times in a row since 11:02:00 UTC \(last: "UDP tracker 10\.0\.0\.1:6969 timed out", 40 s ago\); it has never answered/);
  assert.deepEqual(tu.actions[0]!.request, { method: 'POST', path: `/api/torrents/${IH}/announce` });
  assert.ok(f.some((x) => x.id === 'no-dht' && x.severity === 'problem'));
  assert.match(f.find((x) => x.id === 'no-peers')!.evidence, /has 0 peers and has received nothing for 12 min; trackers gave 0 peers; DHT off/);

  const refused = { url: 'https://private.example/announce', status: 'error' as const, peers: 0, lastError: 'Unregistered torrent', lastErrorAt: NOW - 5000 };
  const p = await runChecks(view(health(), [torrent({ trackers: [refused], isPrivate: true, peers: 0 })]), IH, NOW);
  const te = p.find((x) => x.id === 'tracker-error')!;
  assert.match(te.title, /refused the announce: "Unregistered torrent"/);
  assert.ok(te.entries.includes('private-torrents'));
  assert.ok(p.some((x) => x.id === 'private-no-dht'));
  assert.ok(!p.some((x) => x.id === 'tracker-unreachable'));

  // One of two trackers failing while the other answers: a warning, not the reason it is stuck.
  const mixed = await runChecks(view(health(), [torrent({ trackers: [failing, torrent().trackers[0]!] })]), IH, NOW);
  assert.equal(mixed.find((x) => x.id === 'tracker-unreachable')!.severity, 'warning');
  assert.ok(!mixed.some((x) => x.id === 'no-dht' || x.id === 'no-peers'));
});

test('a tracker asked and silent since the torrent came (a UDP tracker nobody runs): tracker-unreachable after 10 s', async () => {
  const silent = { url: 'udp://127.0.0.1:9/announce', status: 'working' as const, peers: 0 };
  const f = await runChecks(view(health({ dhtEnabled: false }), [torrent({ trackers: [silent], peers: 0, addedAt: NOW - 25_000 })]), IH, NOW);
  assert.equal(f.find((x) => x.id === 'tracker-unreachable')!.evidence, 'udp://127.0.0.1:9/announce has not answered its first announce yet (the torrent was added 25 s ago).');
  assert.ok(f.some((x) => x.id === 'no-dht'));
  const young = await runChecks(view(health(), [torrent({ trackers: [silent], addedAt: NOW - 3000 })]), IH, NOW);
  assert.ok(!young.some((x) => x.id === 'tracker-unreachable'));
});

test('states: paused, queued (position and limit), checking, metadata-stuck (the node’s own sentence)', async () => {
  const paused = await runChecks(view(health(), [torrent({ state: 'paused' })]), IH, NOW);
  assert.equal(paused[0]!.id, 'paused');
  assert.equal(paused[0]!.actions[0]!.request!.path, `/api/torrents/${IH}/resume`);
  const queued = await runChecks(view(health({ queuedTorrents: 4 }), [torrent({ state: 'queued', queuePosition: 5 })]), IH, NOW);
  assert.match(queued[0]!.evidence, /position 5; at most 3 downloads run at once and 4 torrents wait/);
  assert.deepEqual(queued[0]!.actions[0]!.request, { method: 'PATCH', path: `/api/torrents/${IH}`, body: { forceStart: true } });
  assert.ok((await ids(health(), torrent({ state: 'checking' }))).includes('checking'));
  const reason = 'No peer has sent this torrent\'s metadata in 45 s. Trackers: udp://x failed 3 s ago: timed out. The DHT is off.';
  const stuck = await runChecks(view(health(), [torrent({ state: 'metadata', stalledReason: reason, peers: 0 })]), IH, NOW);
  assert.equal(stuck.find((x) => x.id === 'metadata-stuck')!.evidence, reason);
});

test('limits: its own limit, the node-wide one, turtle mode', async () => {
  const own = await runChecks(view(health(), [torrent({ downloadLimit: 100_000, downloadSpeed: 99_000 })]), IH, NOW);
  assert.match(own.find((x) => x.id === 'speed-limited')!.evidence, /downloads at 97 KiB\/s against its own limit of 98 KiB\/s/);
  const node = await runChecks(view(health({ downloadLimit: 100_000 }), [torrent({ downloadSpeed: 90_000 })]), undefined, NOW);
  assert.ok(node.some((x) => x.id === 'speed-limited'));
  const turtle = await runChecks(view(health({ altSpeedEnabled: true, altDownloadLimit: 50_000 }), [torrent()]), IH, NOW);
  const tm = turtle.find((x) => x.id === 'turtle-mode')!;
  assert.deepEqual(tm.actions[0]!.request, { method: 'PATCH', path: '/api/settings', body: { altSpeedEnabled: false } });
  assert.ok(!(await ids(health(), torrent({ downloadLimit: 1_000_000, downloadSpeed: 10_000 }))).includes('speed-limited'));
});

test('node-wide: DHT empty after a minute, port unreachable after a long quiet, disk full below what is left', async () => {
  assert.ok((await ids(health({ dhtNodes: 0, uptimeSeconds: 300 }))).includes('dht-empty'));
  assert.ok(!(await ids(health({ dhtNodes: 0, uptimeSeconds: 10 }))).includes('dht-empty'));
  const quiet = health({ reachability: 'unknown', incomingPeers: 0, lastIncomingAt: NOW - 3 * 3600_000, uptimeSeconds: 86400 });
  const pu = (await runChecks(view(quiet, []), undefined, NOW)).find((x) => x.id === 'port-unreachable')!;
  assert.match(pu.evidence, /0 incoming peers \(the last one was 3 h ago\)/);
  assert.ok(!(await ids(health({ reachability: 'unknown', incomingPeers: 0, uptimeSeconds: 120 }))).includes('port-unreachable'));
  const full = await runChecks(view(health({ disk: { free: 100e6, total: 100e9 } }), [torrent({ remainingBytes: 5e8 })]), undefined, NOW);
  assert.match(full.find((x) => x.id === 'disk-full')!.evidence, /95 MiB free of 93 GiB at \/data; "Film" still needs 477 MiB/);
  assert.ok(!(await ids(health(), torrent())).includes('disk-full'));
});
