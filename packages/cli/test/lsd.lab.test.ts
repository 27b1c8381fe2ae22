// Issue 43 item 4, BEP 14 local service discovery, on a LAN made of network namespaces: open hosts
// of the NAT lab on one bridge (198.18.0.0/24), with no tracker and no DHT anywhere.
//   A  `cascade seed X --lsd`                   B  `cascade download X --lsd`: finds A, downloads
//   C  `cascade download X --no-lsd`: finds nobody while A and B announce every second; beside it
//      `cascade download Y --lsd`: finds libtorrent, the only one with Y
//   D  python3-libtorrent with enable_lsd (DHT, UPnP, NAT-PMP and uTP off): downloads X, seeds Y
//   E  a hostile sender: malformed, oversized, spoofed and lying BT-SEARCH messages, then a flood;
//      last an honest IPv6 peer (A and E have unique local addresses): it hears A's announce on
//      ff15::efc0:988f, announces itself there, and A dials it over IPv6
// Multicast never leaves the lab: its bridge lives in the lab's own namespace, and every node that
// runs LSD runs inside one (the test process itself, in the root namespace, runs none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { createNatLab, requireLabTools, type NatLab } from '@cascade/reachability/lab';
import { cascadeIn, cascadeVerb, labProcess, type LabProcess } from './nat-lab-nodes.ts';
import { tempDir } from './helpers.ts';

requireLabTools(['ip', '/usr/bin/python3']);

/** Inside the lab the guards that keep every other test's node off the LAN are lifted: the
 *  command line says whether LSD runs. Announces every second instead of every 5 minutes. */
const LSD_ENV = { CASCADE_LSD: '', NODE_TEST_CONTEXT: '', CASCADE_LSD_INTERVAL_MS: '1000' };

async function payload(dir: string, name: string, bytes: number, seed: number): Promise<{ torrent: string; infoHash: string; data: Buffer }> {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 4) data.writeUInt32LE(((i + seed) * 2654435761) >>> 0, i);
  writeFileSync(join(dir, name), data);
  const made = await createTorrent(join(dir, name), { pieceLength: 16384 });
  const torrent = join(dir, `${name}.torrent`);
  writeFileSync(torrent, made.torrent);
  return { torrent, infoHash: made.metainfo.infoHashHex, data };
}

const LT = `
import sys, json, re, time, libtorrent as lt
tx, save, ty, data = sys.argv[1:5]
s = lt.session({'listen_interfaces': '0.0.0.0:6881', 'enable_dht': False, 'enable_lsd': True, 'enable_upnp': False,
                'enable_natpmp': False, 'enable_incoming_utp': False, 'enable_outgoing_utp': False,
                'local_service_announce_interval': 1, 'alert_mask': lt.alert.category_t.peer_notification})
hx = s.add_torrent({'ti': lt.torrent_info(tx), 'save_path': save})
hy = s.add_torrent({'ti': lt.torrent_info(ty), 'save_path': data})
said = False
end = time.time() + 120
while time.time() < end:
    for a in s.pop_alerts():
        # lsd_peer_alert has no Python class of its own in Debian's binding: read its message,
        # "<torrent name> peer [ <ip>:<port> … ]: received peer from local service discovery".
        m = re.match(r'(\\S+) peer \\[ ([0-9.]+):\\d+ .*received peer from local service discovery', a.message())
        if m:
            print(json.dumps({'event': 'lsd_peer', 'name': m.group(1), 'ip': m.group(2)}), flush=True)
    if not said and hx.status().is_seeding:
        said = True
        print(json.dumps({'event': 'x_done'}), flush=True)
    time.sleep(0.1)
`;

/** Runs python3-libtorrent in `ns`; its JSON lines become events. */
function libtorrentIn(lab: NatLab, ns: string, args: string[]): LabProcess {
  return labProcess(lab.spawn(ns, '/usr/bin/python3', ['-c', LT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

test('BEP 14: Cascade nodes find each other and libtorrent on a LAN; --no-lsd finds nobody; hostile messages add no peer', { timeout: 120_000 }, async (t) => {
  const lab = await createNatLab(t);
  const [a, b, c, d, e] = [await lab.addHome({ nat: 'none' }), await lab.addHome({ nat: 'none' }), await lab.addHome({ nat: 'none' }), await lab.addHome({ nat: 'none' }), await lab.addHome({ nat: 'none' })];
  // IPv6 too: unique local addresses on A and E (the lab gives only link-local ones).
  await lab.exec(a.ns, 'ip', ['addr', 'add', 'fd43::1/64', 'dev', 'eth0', 'nodad']);
  await lab.exec(e.ns, 'ip', ['addr', 'add', 'fd43::5/64', 'dev', 'eth0', 'nodad']);
  const dir = tempDir(t);
  const x = await payload(dir, 'x.bin', 256 * 1024, 1);
  const ltData = join(dir, 'lt');
  mkdirSync(ltData);
  const y = await payload(ltData, 'y.bin', 192 * 1024, 2);
  const node = (ns: string, args: string[], port = 6881) => {
    const p = cascadeIn(lab, ns, [...args, '--json', '--no-dht', '--port', String(port), '--state-dir', join(tempDir(t), 'state')], LSD_ENV);
    t.after(() => p.stop());
    return p;
  };

  // (1) Two Cascade nodes: the seeder is found by the downloader with no tracker, DHT or --peer.
  const seeder = node(a.ns, ['seed', x.torrent, '--dir', dir, '--lsd']);
  await seeder.event((ev) => ev.event === 'seeding', 30_000, 'A seeding');
  const outB = tempDir(t);
  const outC = tempDir(t);
  const leecher = node(b.ns, ['download', x.torrent, '-o', outB, '--seed', '--lsd']);
  // (3) The same torrent with LSD switched off: nobody is found, though A and B announce each second.
  const deaf = node(c.ns, ['download', x.torrent, '-o', outC, '--no-lsd']);
  const done = await leecher.event((ev) => ev.event === 'done', 30_000, 'B done');
  assert.ok(readFileSync(join(outB, 'x.bin')).equals(x.data), 'B has X, byte for byte');
  assert.deepEqual(hostsOf(done.sources), [a.lanAddress], 'every byte came from A (either connection)');
  // (2) libtorrent in D: downloads X from the Cascade nodes it hears, and seeds Y, which C fetches
  // (Y is announced by libtorrent alone). Meanwhile: A and B each heard the other (whichever
  // dialled first, the other's announces keep coming each second).
  const lt = libtorrentIn(lab, d.ns, [x.torrent, join(tempDir(t), 'ltx'), y.torrent, ltData]);
  t.after(() => lt.stop());
  const outY = tempDir(t);
  const yLeecher = node(c.ns, ['download', y.torrent, '-o', outY, '--seed', '--lsd'], 6882);
  const [, , , yDone] = await Promise.all([
    heardPeers(lab, a.ns, seeder),
    heardPeers(lab, b.ns, leecher),
    lt.event((ev) => ev.event === 'lsd_peer' && ev.name === 'x.bin' && [a.lanAddress, b.lanAddress].includes(ev.ip), 30_000, 'libtorrent hearing a Cascade node announce X'),
    yLeecher.event((ev) => ev.event === 'done', 30_000, 'C done with Y from libtorrent'),
    lt.event((ev) => ev.event === 'x_done', 30_000, 'libtorrent done with X'),
  ]);
  assert.ok(readFileSync(join(outY, 'y.bin')).equals(y.data), 'C has Y, byte for byte');
  assert.deepEqual(hostsOf(yDone.sources), [d.lanAddress], 'Y came from libtorrent');
  await heardPeers(lab, c.ns, yLeecher);

  // By now A and B have announced X many times over: the deaf node in C learned of neither.
  const deafHealth = await cascadeVerb(lab, c.ns, ['health', '--state-dir', stateOf(deaf)]);
  assert.equal(deafHealth.lsd?.enabled, false, 'LSD is off on the deaf node');
  assert.equal(deafHealth.lsd?.received, 0, 'it listened to nothing');
  assert.equal(deafHealth.peers, 0, `it has no peer (${JSON.stringify(deafHealth)})`);
  assert.ok(!deaf.events.some((ev) => ev.event === 'progress' && ev.peers > 0), 'it never had a peer');
  await Promise.all([lt.stop(), yLeecher.stop(), leecher.stop(), deaf.stop()]);

  // (4) Hostile messages at A's listener, from E: none adds a peer, A keeps running. Judged by the
  // hosts A learned peers from, not by their count: the nodes just stopped may have announces still
  // on their way, each adding its peer again once its connection closed (a full run under load
  // counted 6 peers, then 8 while E sent).
  const before = await lsdOf(lab, a.ns, seeder);
  assert.ok(!before.peerHosts.includes(e.lanAddress), `E was never heard before it sent (${JSON.stringify(before)})`);
  const hostile = await lab.exec(e.ns, process.execPath, ['--input-type=module', '-e', HOSTILE, x.infoHash, a.lanAddress], { timeoutMs: 30_000 });
  const sent = JSON.parse(hostile.stdout.trim().split('\n').pop()!);
  assert.ok(sent.cookie, `E read A's cookie off the wire (${hostile.stdout} ${hostile.stderr})`);
  const mid = await lsdOf(lab, a.ns, seeder);
  assert.ok(!mid.peerHosts.includes(e.lanAddress), `no hostile message added a peer (${JSON.stringify({ before, mid, sent })})`);
  assert.ok(mid.dropped - before.dropped >= sent.malformed, `the malformed ones were dropped (${JSON.stringify({ before, mid, sent })})`);
  // A flood of good-looking messages from one sender, each naming another port: a few peers at most.
  await lab.exec(e.ns, process.execPath, ['--input-type=module', '-e', FLOOD, x.infoHash], { timeoutMs: 30_000 });
  const after = await lsdOf(lab, a.ns, seeder);
  assert.ok(after.peerHosts.includes(e.lanAddress), `A learned peers from the flood's sender (${JSON.stringify({ mid, after })})`);
  // Counted for E alone: a node stopped above may still re-add its peer (a full run counted the
  // total rising by more than 20 while E flooded).
  const fromE = (h: LsdHealth) => h.peersByHost[e.lanAddress] ?? 0;
  assert.ok(fromE(after) >= 1 && fromE(after) - fromE(mid) <= 20, `a flood from one sender gives at most 20 peers a minute (${JSON.stringify({ mid, after })})`);
  assert.ok(after.received - mid.received >= 100, `the flood reached A (${JSON.stringify({ mid, after })})`);
  assert.equal(seeder.child.exitCode, null, 'A still runs');
  // Over IPv6: A's announces reach ff15::efc0:988f, and a peer announcing there is dialled over IPv6.
  const v6 = await lab.exec(e.ns, process.execPath, ['--input-type=module', '-e', IPV6, x.infoHash], { timeoutMs: 30_000, allowFail: true });
  const six = JSON.parse(v6.stdout.trim().split('\n').pop() || '{}');
  assert.equal(six.heard?.host, '[ff15::efc0:988f]:6771', `A announced X over IPv6 (${v6.stdout} ${v6.stderr})`);
  assert.equal(six.dialled, 'fd43::1', `A dialled E's IPv6 address it heard (${v6.stdout} ${v6.stderr})`);
  t.diagnostic(`A's LSD: ${JSON.stringify({ before, afterHostile: mid, afterFlood: after })}`);
});

function hostsOf(sources: { address: string }[]): string[] {
  return [...new Set(sources.map((s) => s.address.split(':')[0]!))];
}

interface LsdHealth {
  peers: number;
  received: number;
  dropped: number;
  peerHosts: string[];
  peersByHost: Record<string, number>;
}

async function lsdOf(lab: NatLab, ns: string, p: LabProcess): Promise<LsdHealth> {
  return (await cascadeVerb(lab, ns, ['health', '--state-dir', stateOf(p)])).lsd;
}

/** Waits (bounded) until the node has learned a peer by LSD. */
async function heardPeers(lab: NatLab, ns: string, p: LabProcess): Promise<void> {
  const end = Date.now() + 15_000;
  let last: LsdHealth | undefined;
  while (Date.now() < end) {
    last = await lsdOf(lab, ns, p);
    if (last.peers >= 1) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.fail(`no peer learned by LSD in ${ns}: ${JSON.stringify(last)}`);
}

function stateOf(p: LabProcess): string {
  const args = p.child.spawnargs;
  return args[args.indexOf('--state-dir') + 1]!;
}

/** Listens for A's announce (its cookie), then sends what no announce is; prints what it sent. */
const HOSTILE = `
import dgram from 'node:dgram';
const ih = process.argv[1];
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
await new Promise((r) => s.bind(6771, r));
s.addMembership('239.192.152.143');
// A's own cookie: from A's address only (a node stopped just before may still have an announce of
// the same torrent on its way, with its own cookie: a full run's E sent that, and A took 2 peers).
const cookie = await new Promise((r) => s.on('message', (m, from) => { const c = /cookie: *(\\w+)/i.exec(m.toString('latin1')); if (c && from.address === process.argv[2] && m.toString().includes(ih)) r(c[1]); }));
const msg = (lines) => Buffer.from(['BT-SEARCH * HTTP/1.1', 'Host: 239.192.152.143:6771', ...lines, '', ''].join('\\r\\n'), 'latin1');
const malformed = [
  Buffer.from(Array.from({ length: 1200 }, (_, i) => (i * 37) & 255)),
  Buffer.concat([msg(['Port: 7001', 'Infohash: ' + ih]), Buffer.alloc(60000, 65)]).subarray(0, 60000),
  msg(['Port: 0', 'Infohash: ' + ih]),
  msg(['Port: 70000', 'Infohash: ' + ih]),
  msg(['Port: abc', 'Infohash: ' + ih]),
  msg(['Port: -1', 'Infohash: ' + ih]),
  msg(['Infohash: ' + ih]),
  msg(['Port: 7003', 'Infohash: ' + 'zz'.repeat(20)]),
  msg(['Port: 7004', 'Infohash: ' + '0'.repeat(40)]),
  msg(['Port: 7005', 'Infohash: ' + ih.slice(0, 39)]),
  msg(['Port 7006', 'Infohash: ' + ih]),
  msg(['Port: 7007', 'Infohash: ' + ih, 'X'.repeat(5000)]),
  Buffer.from('GET / HTTP/1.1\\r\\nPort: 7008\\r\\nInfohash: ' + ih + '\\r\\n\\r\\n'),
  Buffer.from(''),
  Buffer.from('BT-SEARCH'),
];
const ignored = [
  msg(['Port: 7010', 'Infohash: ' + 'ab'.repeat(20), 'cookie: 1']),
  msg(['Port: 7011', 'Infohash: ' + ih, 'cookie: ' + cookie]),
  msg(['Port: 7012', 'Infohash: ' + ih, 'cookie: ' + cookie.toUpperCase()]),
];
for (const m of [...malformed, ...ignored]) await new Promise((r) => s.send(m, 6771, '239.192.152.143', r));
await new Promise((r) => setTimeout(r, 1000));
console.log(JSON.stringify({ cookie, malformed: malformed.length, ignored: ignored.length }));
s.close();
`;

/** 600 announces of A's torrent from one sender, each with its own port, as fast as it can. */
const FLOOD = `
import dgram from 'node:dgram';
const ih = process.argv[1];
const s = dgram.createSocket('udp4');
for (let i = 0; i < 600; i++) {
  const m = Buffer.from('BT-SEARCH * HTTP/1.1\\r\\nHost: 239.192.152.143:6771\\r\\nPort: ' + (20000 + i) + '\\r\\nInfohash: ' + ih + '\\r\\ncookie: beef\\r\\n\\r\\n\\r\\n');
  await new Promise((r) => s.send(m, 6771, '239.192.152.143', r));
  if (i % 20 === 19) await new Promise((r) => setTimeout(r, 30));
}
await new Promise((r) => setTimeout(r, 500));
s.close();
`;

/** Hears A's IPv6 announce, announces X from fd43::5 with a port it listens on, and waits for A. */
const IPV6 = `
import dgram from 'node:dgram';
import net from 'node:net';
const ih = process.argv[1];
const server = net.createServer();
await new Promise((r) => server.listen(7777, 'fd43::5', r));
const dialled = new Promise((r) => server.on('connection', (c) => { r(c.remoteAddress); c.destroy(); }));
const s = dgram.createSocket({ type: 'udp6', reuseAddr: true });
await new Promise((r) => s.bind(6771, '::', r));
s.addMembership('ff15::efc0:988f');
const heard = await new Promise((r) => s.on('message', (m, from) => { const t = m.toString('latin1'); if (t.includes(ih)) r({ from: from.address, host: /Host: *(.*)\\r/i.exec(t)?.[1] }); }));
const out = dgram.createSocket('udp6');
await new Promise((r) => out.bind(0, 'fd43::5', r));
const m = Buffer.from('BT-SEARCH * HTTP/1.1\\r\\nHost: [ff15::efc0:988f]:6771\\r\\nPort: 7777\\r\\nInfohash: ' + ih + '\\r\\ncookie: cafe\\r\\n\\r\\n\\r\\n');
await new Promise((r) => out.send(m, 6771, 'ff15::efc0:988f', r));
const who = await Promise.race([dialled, new Promise((r) => setTimeout(() => r(null), 10_000))]);
console.log(JSON.stringify({ heard, dialled: who }));
process.exit(0);
`;
