// The swarm as the doors show it (issue 60 item 4): a Cascade node downloads from a capped
// libtorrent seed, then uploads to a libtorrent downloader and a Cascade downloader at once. Its
// API's detail and piece map, the qBittorrent peers tab (through @ctrl/qbittorrent) and Debian's
// transmission-remote report the same peers: who chokes whom, who wants what (the letters of each
// client), the client each runs and its progress, distributed copies and each piece's availability.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QBittorrent } from '@ctrl/qbittorrent';
import { Session, createTorrent, parseTorrent } from '@cascade/engine';
import type { PeerView } from '@cascade/shapes';
import { distributedCopies, qbittorrentFlags, transmissionFlagStr } from '../swarm-view.ts';
import { patternBytes, startTestServer, type TestServer } from '../../http/test/server-helpers.ts';
import { remoteOk, rpcClient, until } from './transmission-helpers.ts';

const LT_SEED = fileURLToPath(new URL('../../engine/test/lt_seed.py', import.meta.url));
/** A libtorrent downloader of argv[1] into argv[2] that dials argv[3] (host:port) and nothing else.
 *  Every peer here is 127.0.0.1, and libtorrent keeps one connection per IP unless told otherwise:
 *  once the Cascade downloader (told of it by the node's PEX) reached it, libtorrent dropped one of
 *  the two "duplicates" — in two full runs the node's, so the node never had both downloaders at
 *  once and the wait for them timed out (libtorrent then fetched the rest from the Cascade one). */
const LT_GET = `
import sys, threading, time, libtorrent as lt
ses = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
                  'enable_natpmp': False, 'enable_outgoing_utp': False, 'enable_incoming_utp': False,
                  'allow_multiple_connections_per_ip': True})
h = ses.add_torrent({'ti': lt.torrent_info(sys.argv[1]), 'save_path': sys.argv[2]})
host, port = sys.argv[3].rsplit(':', 1)
h.connect_peer((host, int(port)))
print('dialled', flush=True)
def report():  # what the test prints while it waits on this downloader
    while True:
        st = h.status()
        print('status', st.state, round(st.progress, 3), 'peers', st.num_peers, flush=True)
        time.sleep(10)
threading.Thread(target=report, daemon=True).start()
sys.stdin.read()
`;
const SIZE = 4 * 1024 * 1024;
const PIECE = 256 * 1024;
type T = Parameters<typeof startTestServer>[0] & { diagnostic(msg: string): void };

/** Starts a python3-libtorrent script; resolves with the child once `ready` matches its stdout. */
async function python(t: T, args: string[], ready: RegExp): Promise<{ out: () => string; kill: () => void }> {
  const child = spawn('/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const kill = () => void child.kill('SIGKILL');
  t.after(kill);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (ready.test(out)) resolve();
    });
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${out}`)));
  });
  return { out: () => out, kill };
}

async function qbGet(s: TestServer, path: string): Promise<any> {
  const login = await fetch(`${s.url}/api/v2/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'cascade', password: s.token }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const r = await fetch(`${s.url}/api/v2/${path}`, { headers: { cookie } });
  assert.equal(r.status, 200);
  return r.json();
}

async function qbPeers(s: TestServer, ih: string): Promise<Record<string, { flags: string; flags_desc: string; client: string; progress: number }>> {
  return (await qbGet(s, `sync/torrentPeers?hash=${ih}`)).peers;
}

interface PeerLine {
  address: string;
  flags: string;
  done: string;
  client: string;
}

/** transmission-remote -t HASH -pi's rows. Its printf is "%-40s  %-12s  %-5.1f %6.1f  %6.1f  %s":
 *  fixed columns, so an empty flag string or a client name with spaces reads right. */
async function transmissionPeers(s: TestServer, ih: string): Promise<PeerLine[]> {
  const out = await remoteOk(s, ['-t', ih, '-pi']);
  return out.split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => {
    const rest = l.slice(56).trim().split(/\s+/);
    return { address: l.slice(0, 40).trim(), flags: l.slice(42, 54).trim(), done: rest[0]!, client: rest.slice(3).join(' ') };
  });
}

/** transmission-remote -t HASH -pi: the Flags column of each row. */
async function transmissionFlags(s: TestServer, ih: string): Promise<string[]> {
  return (await transmissionPeers(s, ih)).map((r) => r.flags);
}

/** What the three doors must agree on for one peer: the node's API peer as each client would show it. */
function expected(p: PeerView) {
  return { client: p.client ?? '', qb: qbittorrentFlags(p).flags, tr: transmissionFlagStr(p), progress: p.progress };
}

/** Polls until one moment where the node's API (read before and after, unchanged), the qBittorrent
 *  API's peers call and transmission-remote -pi show every peer alike: client name, flags in each
 *  client's letters, progress. Answers the API's peers. Differences seen on the way are kept for
 *  the failure message (states move while a transfer runs, so one look may straddle a change). */
async function agreeing(s: TestServer, qb: QBittorrent, ih: string, count: number, t: T): Promise<PeerView[]> {
  const peersOf = async () => ((await s.json(`/api/torrents/${ih}`)).body.peerList as PeerView[]).filter((p) => p.transport !== 'webseed');
  let last = '';
  for (let i = 0; ; i++) {
    const before = await peersOf();
    const qbPeers = Object.entries((await qb.torrentPeers(ih)).peers ?? {});
    const trPeers = await transmissionPeers(s, ih);
    const after = await peersOf();
    const same = JSON.stringify(before.map(expected)) === JSON.stringify(after.map(expected));
    const problems: string[] = [];
    if (!same) problems.push('the API moved meanwhile');
    if (before.length !== count) problems.push(`${before.length} peers, not ${count}`);
    for (const p of same ? before : []) {
      const want = expected(p);
      const q = qbPeers.find(([key]) => key === p.address)?.[1] as { client: string; flags: string; progress: number } | undefined;
      if (!q) problems.push(`qBittorrent lacks ${p.address}`);
      else if (q.client !== want.client || q.flags !== want.qb || q.progress !== want.progress) problems.push(`qBittorrent ${JSON.stringify(q)} for ${JSON.stringify(want)}`);
      // Transmission prints no port and both peers are 127.0.0.1: its row is the one with this client.
      // Its Done is printf's %.1f, which rounds a tie (6.25) to even where toFixed rounds it up.
      const r = trPeers.filter((x) => x.client === want.client);
      if (r.length !== 1) problems.push(`transmission-remote rows for "${want.client}": ${JSON.stringify(trPeers)}`);
      else if (r[0]!.address !== p.address.replace(/:\d+$/, '') || r[0]!.flags !== want.tr || Math.abs(Number(r[0]!.done) - want.progress * 100) > 0.051) problems.push(`transmission-remote ${JSON.stringify(r[0])} for ${JSON.stringify(want)}`);
    }
    if (problems.length === 0) {
      t.diagnostic(`agreed after ${i + 1} look(s): ${JSON.stringify(before.map(expected))}`);
      return before;
    }
    if (i % 20 === 0) t.diagnostic(`still differing: ${problems.join('; ')}`);
    last = problems.join('; ');
    if (i >= 120) throw new Error(`the doors never agreed: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the swarm view: states both ways, distributed copies and the piece map, alike in the API, qBittorrent and Transmission', { timeout: 240_000 }, async (t) => {
  const s = await startTestServer(t);
  const seedDir = join(s.root, 'lt-seed');
  mkdirSync(seedDir);
  const data = patternBytes(SIZE, 60);
  writeFileSync(join(seedDir, 'swarm.bin'), data);
  const { torrent } = await createTorrent(join(seedDir, 'swarm.bin'), { pieceLength: PIECE });
  const torrentPath = join(s.root, 'swarm.torrent');
  writeFileSync(torrentPath, torrent);
  const ih = parseTorrent(torrent).infoHashHex;
  const pieces = SIZE / PIECE;

  // A libtorrent seed capped at 256 KB/s: the download lasts long enough to look at it.
  const seed = await python(t, [LT_SEED, torrentPath, seedDir, String(256 * 1024)], /seeding/);
  const seedPort = Number(/port (\d+)/.exec(seed.out())![1]);
  const added = await s.json('/api/torrents', { method: 'POST', json: { uri: `magnet:?xt=urn:btih:${ih}&dn=swarm.bin`, peers: [`127.0.0.1:${seedPort}`] } });
  assert.equal(added.status, 201, JSON.stringify(added.body));

  // Downloading: we want the seed's pieces and it unchokes us ("D"); it wants nothing of ours.
  const downloading = await until('a few pieces from the seed, which unchokes us', async () => {
    const d = (await s.json(`/api/torrents/${ih}`)).body;
    const p = d.peerList?.find((x: any) => x.address.endsWith(`:${seedPort}`));
    return d.verifiedPieces >= 2 && d.progress < 0.8 && p && p.amInterested && !p.choked ? { d, p } : undefined;
  });
  assert.equal(downloading.p.interested, false, 'a seed wants nothing of ours');
  assert.equal(downloading.p.relevance, 1, 'the seed has every piece we lack (qBittorrent\'s relevance)');
  // qBittorrent's files: those of the piece being downloaded from the peer now.
  let seen: unknown;
  for (let i = 0; i < 100; i++) {
    const p = Object.values(await qbPeers(s, ih))[0] as { files?: string; relevance?: number } | undefined;
    if (p?.files === 'swarm.bin' && p.relevance === 1) break;
    seen = { qb: p, api: (await s.json(`/api/torrents/${ih}`)).body.peerList?.[0] };
    if (i === 99) assert.fail(`qBittorrent never named the file downloaded from the seed: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(downloading.p.progress, 1);
  assert.equal(typeof downloading.p.optimistic, 'boolean');
  assert.equal(downloading.d.distributedCopies, 1, 'one connected peer holds every piece once');
  const map = (await s.json(`/api/torrents/${ih}/pieces`)).body;
  assert.equal(map.pieceCount, pieces);
  assert.equal(map.pieceLength, PIECE);
  assert.match(map.states, new RegExp(`^[012]{${pieces}}$`));
  assert.ok(map.states.includes('2') && map.states.includes('0'), map.states);
  assert.deepEqual(map.availability, new Array(pieces).fill(1), 'the seed holds every piece');
  assert.equal(map.distributedCopies, 1);
  // Counted as libtorrent counts them, this node's own pieces included (the web's Availability):
  // the seed's copy of every piece, and a second of those verified here.
  const verified = [...(map.states as string)].filter((c) => c === '2').length;
  assert.equal(distributedCopies(map.states, map.availability), 1 + verified / pieces);
  const [qbInfo] = await qbGet(s, `torrents/info?hashes=${ih}`);
  assert.ok(qbInfo.availability > 1 && qbInfo.availability < 2, `qBittorrent's availability ${qbInfo.availability}`);
  // Transmission's desiredAvailable: what is left that a connected peer holds (all of it, the seed).
  const [tr] = (await rpcClient(s).call('torrent-get', { ids: [ih], fields: ['desiredAvailable', 'leftUntilDone'] })).arguments.torrents;
  assert.ok(tr.desiredAvailable > 0 && tr.desiredAvailable <= tr.leftUntilDone, JSON.stringify(tr));
  const qbDown = Object.values(await qbPeers(s, ih));
  assert.equal(qbDown.length, 1);
  assert.ok(qbDown[0]!.flags.split(' ').includes('D'), `qBittorrent flags "${qbDown[0]!.flags}"`);
  assert.match(qbDown[0]!.flags_desc, /^D = Interested \(local\) and unchoked \(peer\)$/m);
  assert.ok((await transmissionFlags(s, ih)).some((f) => f.includes('D')), 'transmission-remote shows D for the seed');
  const missing = await s.request(`/api/torrents/${'e'.repeat(40)}/pieces`);
  assert.equal(missing.status, 404);
  const malformed = await s.request('/api/torrents/not-a-hash/pieces');
  assert.equal(malformed.status, 400, 'a malformed infohash is a 400');

  await until('the download to complete', async () => ((await s.json(`/api/torrents/${ih}`)).body.progress === 1 ? true : undefined), 250);
  seed.kill();

  // Seeding to a libtorrent downloader and a Cascade one at once (our upload capped so it lasts):
  // they want ours ("U" while we unchoke one, "u" while we choke it); we want nothing of them.
  const limited = await s.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { uploadLimit: 128 * 1024 } });
  assert.equal(limited.status, 200, JSON.stringify(limited.body));
  const getDir = join(s.root, 'lt-get');
  mkdirSync(getDir);
  const leech = await python(t, ['-c', LT_GET, torrentPath, getDir, `127.0.0.1:${s.node.session.port}`], /dialled/);
  const cascade = await Session.create({ host: '127.0.0.1', port: 0, dht: false, webrtc: false, lsd: false });
  t.after(() => cascade.close());
  await cascade.add(torrent, { savePath: join(s.root, 'cascade-get'), peers: [`127.0.0.1:${s.node.session.port}`] });
  // Both interested with a piece each; not both unchoked at once: the choker may size its upload
  // slots to the capped link and take turns.
  let lastPeers: unknown;
  const uploading = await until('both downloaders interested, with a piece each', async () => {
    const d = (await s.json(`/api/torrents/${ih}`)).body;
    lastPeers = (d.peerList ?? []).map((x: any) => ({ address: x.address, client: x.client, interested: x.interested, choked: x.amChoking, progress: x.progress, up: x.uploadSpeed }));
    const ps = (d.peerList ?? []).filter((x: any) => x.interested && x.progress > 0 && x.progress < 1);
    return ps.length === 2 ? { d, ps } : undefined;
  }, 100, () => `the node's peers ${JSON.stringify(lastPeers)}; libtorrent's downloader said ${JSON.stringify(leech.out().slice(-300))}; Cascade's downloader ${JSON.stringify(cascade.get(ih)?.stats().state)} with ${cascade.get(ih)?.peers().length} peer(s)`);
  for (const p of uploading.ps) assert.equal(p.amInterested, false, 'a complete node wants nothing');
  const qb = new QBittorrent({ baseUrl: s.url, username: 'cascade', password: s.token });
  const peers = await agreeing(s, qb, ih, 2, t);
  const clients = peers.map((p) => p.client ?? '');
  assert.ok(clients.some((c) => /libtorrent|anchor/i.test(c)), `the client each runs, from its handshake: ${clients}`);
  assert.ok(clients.some((c) => /cascade/i.test(c)), `the client each runs, from its handshake: ${clients}`);
  // libtorrent dials with an encrypted handshake (its default out_enc_policy) and we choose the
  // plaintext stream: qBittorrent's "e", not Transmission's isEncrypted (RC4 only).
  assert.equal(peers.find((p) => /libtorrent/i.test(p.client ?? ''))!.encryption, 'handshake');
  const cascadePeer = peers.find((p) => /cascade/i.test(p.client ?? ''))!;
  assert.equal(typeof cascadePeer.peerId, 'string');
  assert.equal(cascadePeer.relevance, 0, 'a seed lacks nothing: no peer is relevant to it');
  const qbUp = Object.values((await qb.torrentPeers(ih)).peers ?? {}).find((p: any) => p.progress < 1) as { flags: string; peer_id_client: string };
  assert.ok(qbUp.flags.split(' ').some((f) => f === 'U' || f === 'u'), `qBittorrent flags "${qbUp.flags}"`);
  assert.match(qbUp.peer_id_client, /^[\x20-\x7e]{8}$/, 'peer_id_client: the first 8 bytes of its peer id');
  assert.ok((await transmissionFlags(s, ih)).every((f) => f.includes('U') || f.includes('u')), 'transmission-remote shows U (or u) for each downloader');
  const seeding = (await s.json(`/api/torrents/${ih}/pieces`)).body;
  assert.equal(seeding.states, '2'.repeat(pieces), 'every piece verified here');
  t.diagnostic(`downloaders: ${JSON.stringify(peers)}; distributed copies ${uploading.d.distributedCopies}`);
  leech.kill();
});
