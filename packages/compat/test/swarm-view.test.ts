// The swarm as the doors show it (issue 60 item 4): a Cascade node downloads from a capped
// libtorrent seed, then uploads to a libtorrent downloader. Its API's detail and piece map, the
// qBittorrent peers tab and Debian's transmission-remote report the same states: who chokes whom,
// who wants what, distributed copies and each piece's availability.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent, parseTorrent } from '@cascade/engine';
import { patternBytes, startTestServer, type TestServer } from '../../http/test/server-helpers.ts';
import { remoteOk, until } from './transmission-helpers.ts';

const LT_SEED = fileURLToPath(new URL('../../engine/test/lt_seed.py', import.meta.url));
/** A libtorrent downloader of argv[1] into argv[2] that dials argv[3] (host:port) and nothing else. */
const LT_GET = `
import sys, libtorrent as lt
ses = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
                  'enable_natpmp': False, 'enable_outgoing_utp': False, 'enable_incoming_utp': False})
h = ses.add_torrent({'ti': lt.torrent_info(sys.argv[1]), 'save_path': sys.argv[2]})
host, port = sys.argv[3].rsplit(':', 1)
h.connect_peer((host, int(port)))
print('dialled', flush=True)
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

async function qbPeers(s: TestServer, ih: string): Promise<Record<string, { flags: string; flags_desc: string; client: string; progress: number }>> {
  const login = await fetch(`${s.url}/api/v2/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'cascade', password: s.token }) });
  const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
  const r = await fetch(`${s.url}/api/v2/sync/torrentPeers?hash=${ih}`, { headers: { cookie } });
  assert.equal(r.status, 200);
  return ((await r.json()) as { peers: Record<string, any> }).peers;
}

/** transmission-remote -t HASH -pi: the Flags column of the row for address:port's host. */
async function transmissionFlags(s: TestServer, ih: string): Promise<string[]> {
  const out = await remoteOk(s, ['-t', ih, '-pi']);
  // "Address  Flags  Done  Down  Up  Client": the second column of each row after the header.
  return out.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((c) => /^\d+\.\d+\.\d+\.\d+$/.test(c[0] ?? '')).map((c) => c[1]!);
}

test('the swarm view: states both ways, distributed copies and the piece map, alike in the API, qBittorrent and Transmission', { timeout: 120_000 }, async (t) => {
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
  const qbDown = Object.values(await qbPeers(s, ih));
  assert.equal(qbDown.length, 1);
  assert.ok(qbDown[0]!.flags.split(' ').includes('D'), `qBittorrent flags "${qbDown[0]!.flags}"`);
  assert.match(qbDown[0]!.flags_desc, /^D = interested\(local\) and unchoked\(peer\)$/m);
  assert.ok((await transmissionFlags(s, ih)).some((f) => f.includes('D')), 'transmission-remote shows D for the seed');
  const missing = await s.request(`/api/torrents/${'e'.repeat(40)}/pieces`);
  assert.equal(missing.status, 404);
  const malformed = await s.request('/api/torrents/not-a-hash/pieces');
  assert.equal(malformed.status, 400, 'a malformed infohash is a 400');

  await until('the download to complete', async () => ((await s.json(`/api/torrents/${ih}`)).body.progress === 1 ? true : undefined), 250);
  seed.kill();

  // Seeding to a libtorrent downloader (our upload capped so it lasts): it wants ours and we
  // unchoke it ("U"); we want nothing of it.
  const limited = await s.json(`/api/torrents/${ih}`, { method: 'PATCH', json: { uploadLimit: 128 * 1024 } });
  assert.equal(limited.status, 200, JSON.stringify(limited.body));
  const getDir = join(s.root, 'lt-get');
  mkdirSync(getDir);
  const leech = await python(t, ['-c', LT_GET, torrentPath, getDir, `127.0.0.1:${s.node.session.port}`], /dialled/);
  const uploading = await until('the libtorrent downloader unchoked by us', async () => {
    const d = (await s.json(`/api/torrents/${ih}`)).body;
    const p = d.peerList?.find((x: any) => x.interested && !x.amChoking && x.progress < 1);
    return p ? { d, p } : undefined;
  });
  assert.equal(uploading.p.amInterested, false, 'a complete node wants nothing');
  assert.match(uploading.p.client ?? '', /libtorrent|anchor/i, 'the client it runs, from its handshake');
  const qbUp = Object.values(await qbPeers(s, ih)).find((p) => p.progress < 1)!;
  assert.ok(qbUp.flags.split(' ').includes('U'), `qBittorrent flags "${qbUp.flags}"`);
  assert.ok((await transmissionFlags(s, ih)).some((f) => f.includes('U')), 'transmission-remote shows U for the downloader');
  const seeding = (await s.json(`/api/torrents/${ih}/pieces`)).body;
  assert.equal(seeding.states, '2'.repeat(pieces), 'every piece verified here');
  t.diagnostic(`downloader: ${JSON.stringify(uploading.p)}; distributed copies ${uploading.d.distributedCopies}`);
  leech.kill();
});
