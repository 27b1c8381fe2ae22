// Private shares end to end (issue 24) between real `cascade serve` nodes on loopback: A shares a
// folder for B; B reads it, streams it with Range; C, another identity, only keeps the ciphertext
// and its API says why. Shares by link; a wrong key; a tampered share.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cascade, cascadeHere, startServe, until, type ServeNode } from './node-process.ts';
import { createTorrent } from '@cascade/engine';
import { INFO_KEY, recipientKeyFromDid } from '@cascade/private-shares';
import { sealFiles } from '@cascade/private-shares/node';
import { tempDir } from './helpers.ts';

// The tests share one set of nodes (a `cascade serve` costs ~4 CPU-s to start, and nothing they
// assert needs a node of its own): P shares and seeds, Q reads (the link test restarts it, and the
// tests after it use the restarted one), R is the stranger. Each test keeps its own file names. The
// first test uses Q as its reader and R as its late downloader, and starts its own sharer and
// stranger: it stops them, and searches that stranger's whole state for the share's name. Verbs run inside this process (cascadeHere, node.here: the CLI's
// own main()) but for the ones whose process is the point: `create --encrypt` (JSON, then human
// mode's stdout) and a refused `--to` (exit status 2) stay real `cascade` processes.
const fileScope = { fns: [] as (() => void)[], after(fn: () => void) { this.fns.push(fn); } };
after(() => { for (const fn of fileScope.fns.reverse()) fn(); });
interface Shared { root: string; a: ServeNode; b: ServeNode; c: ServeNode }
let shared: Promise<Shared> | undefined;
function sharedNodes(): Promise<Shared> {
  return (shared ??= (async () => {
    const root = tempDir(fileScope);
    const [a, b, c] = await Promise.all(['a-dl', 'b-dl', 'c-dl'].map((dl) => startServe(fileScope, { args: ['--download-dir', join(root, dl)] })));
    return { root, a: a!, b: b!, c: c! };
  })());
}

const MARKER = Buffer.from('cascade-private-marker:'.padEnd(64, 'q'));

async function didOf(node: ServeNode): Promise<string> {
  const r = await node.here(['identity', '--json']);
  return JSON.parse(r.stdout).did as string;
}

async function detail(node: ServeNode, ih: string): Promise<Record<string, any>> {
  const r = await node.api(`/api/torrents/${ih}`);
  return (await r.json()) as Record<string, any>;
}

async function addUri(node: ServeNode, uri: string, peer: ServeNode): Promise<string> {
  const r = await node.api('/api/torrents', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri, peers: [`127.0.0.1:${peer.btPort}`] }),
  });
  const body = (await r.json()) as { infoHash: string };
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(body));
  return body.infoHash;
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

function contentOf(size: number): Buffer {
  const b = randomBytes(size);
  MARKER.copy(b, Math.floor(size / 3));
  return b;
}

test('A shares a folder for B: B reads it byte for byte and streams it; C keeps ciphertext only and is told why', { timeout: 180_000 }, async (t) => {
  // Its B is the shared Q (a fresh node: this test runs first) and its D the shared R; its A and C
  // are its own (it stops them).
  const { root, b, c: d } = await sharedNodes();
  const [a, c] = await Promise.all([
    startServe(t, { args: ['--download-dir', join(root, 'a1-dl')] }),
    startServe(t, { args: ['--download-dir', join(root, 'c1-dl')] }),
  ]);
  const bDid = await didOf(b);
  const film = contentOf(1_500_000);
  const notes = Buffer.from('the secret plans, in plain words\n');
  const form = new FormData();
  form.append('recipients', bDid);
  form.append('files', new Blob([new Uint8Array(film)]), 'Holiday Secrets/film.mkv');
  form.append('files', new Blob([new Uint8Array(notes)]), 'Holiday Secrets/notes.txt');
  const made = await a.api('/api/torrents', { method: 'POST', body: form });
  const share = (await made.json()) as Record<string, any>;
  assert.equal(made.status, 201, JSON.stringify(share));
  assert.equal(share.encrypted, true);
  assert.equal(share.link, undefined, 'a share for recipients has no link');
  assert.match(share.name, /^cascade-private-[0-9a-f]{12}$/);
  assert.doesNotMatch(share.magnet, /Holiday|#/);
  // The sharer's node reads its own share.
  const mine = await detail(a, share.infoHash);
  assert.equal(mine.encrypted, true);
  assert.equal(mine.decryptable, true);
  assert.equal(mine.name, 'Holiday Secrets');

  await addUri(b, share.magnet, a);
  await addUri(c, share.magnet, a);
  const bView = await until('B to write the plaintext', async () => {
    const d = await detail(b, share.infoHash);
    return d.files?.length === 2 && d.files.every((f: { progress: number }) => f.progress === 1) ? d : undefined;
  }, 60_000);
  assert.equal(bView.encrypted, true);
  assert.equal(bView.decryptable, true);
  assert.equal(bView.error, null);
  assert.equal(bView.name, 'Holiday Secrets');
  assert.deepEqual(bView.files.map((f: { path: string; length: number }) => [f.path, f.length]), [['film.mkv', film.length], ['notes.txt', notes.length]]);
  assert.ok(readFileSync(join(root, 'b-dl', 'Holiday Secrets', 'film.mkv')).equals(film));
  assert.ok(readFileSync(join(root, 'b-dl', 'Holiday Secrets', 'notes.txt')).equals(notes));
  // B keeps one copy, the plaintext: no ciphertext file beside it (it seeds the ciphertext sealed
  // again from the plaintext, below).
  assert.equal(existsSync(join(root, 'b-dl', share.name)), false, 'no ciphertext copy on B');
  assert.deepEqual(readdirSync(join(root, 'b-dl')), ['Holiday Secrets']);
  // Streaming plaintext with Range, across chunk edges.
  const ranged = await b.api(`/api/torrents/${share.infoHash}/files/0`, { headers: { range: 'bytes=65000-200000' } });
  assert.equal(ranged.status, 206);
  assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(film.subarray(65000, 200001)));
  const whole = await b.api(`/api/torrents/${share.infoHash}/files/1`);
  assert.equal(whole.status, 200);
  assert.equal(await whole.text(), notes.toString());

  // C: the ciphertext, complete, and nothing readable.
  await until('C to have the ciphertext', async () => ((await detail(c, share.infoHash)).progress === 1 ? true : undefined), 60_000);
  const cView = await detail(c, share.infoHash);
  assert.equal(cView.encrypted, true);
  assert.equal(cView.decryptable, false);
  assert.match(cView.error, /encrypted for other people/);
  assert.equal(cView.name, share.name);
  assert.deepEqual(cView.files, []);
  const refused = await c.api(`/api/torrents/${share.infoHash}/files/0`);
  assert.equal(refused.status, 403);
  assert.match(((await refused.json()) as { message: string }).message, /other people/);
  const list = (await (await c.api('/api/torrents')).json()) as { torrents: Record<string, any>[] };
  const row = list.torrents.find((x) => x.infoHash === share.infoHash)!;
  assert.equal(row.decryptable, false);
  // Neither the name nor the marker anywhere in C's download folder or state.
  for (const file of [...filesUnder(join(root, 'c1-dl')), ...filesUnder(c.stateDir)]) {
    assert.doesNotMatch(file, /Holiday|film\.mkv|notes\.txt/, file);
    const bytes = readFileSync(file);
    assert.equal(bytes.indexOf(MARKER), -1, `the marker is in ${file}`);
    assert.equal(bytes.indexOf('Holiday Secrets'), -1, `the name is in ${file}`);
  }

  // B seeds: with A and C gone, D (another stranger) gets the whole ciphertext from B alone, every
  // piece passing its hash, so B's ciphertext sealed again from its plaintext is the sharer's.
  await Promise.all([a.stop(), c.stop()]);
  // Offline, `cascade list` names the share as the running node did: its real name where the key is
  // stored (the sharer), the neutral one where it is not (issue 44 item 6).
  const offlineName = async (node: ServeNode) => {
    const r = await cascadeHere(['list', '--json', '--state-dir', node.stateDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.lines[0]!.online, false);
    return (r.lines[0]!.torrents as { infoHash: string; name: string }[]).find((e) => e.infoHash === share.infoHash)?.name;
  };
  assert.equal(await offlineName(a), 'Holiday Secrets');
  assert.equal(await offlineName(c), share.name);
  await addUri(d, share.magnet, b);
  await until('D to have the ciphertext from B', async () => ((await detail(d, share.infoHash)).progress === 1 ? true : undefined), 60_000);
  assert.equal(statSync(join(root, 'c-dl', share.name)).size, statSync(join(root, 'a1-dl', share.name)).size);
  assert.ok(readFileSync(join(root, 'c-dl', share.name)).equals(readFileSync(join(root, 'a1-dl', share.name))), 'the ciphertext from B is the sharer’s, byte for byte');
});

test('a share by link: the link opens it, the magnet alone gives ciphertext, a wrong key says not for you', { timeout: 180_000 }, async () => {
  const nodes = await sharedNodes();
  const { root, a, b, c } = nodes;
  const data = contentOf(300_000);
  const form = new FormData();
  form.append('encrypt', 'true');
  form.append('file', new Blob([new Uint8Array(data)]), 'report.pdf');
  const made = await a.api('/api/torrents', { method: 'POST', body: form });
  const share = (await made.json()) as Record<string, any>;
  assert.equal(made.status, 201, JSON.stringify(share));
  assert.equal(share.encrypted, true);
  assert.match(share.link, /^magnet:\?[^#]+#k=[A-Za-z0-9_-]{43}$/);
  assert.ok(share.link.startsWith(share.magnet));
  assert.doesNotMatch(share.magnet, /#/);

  await addUri(b, share.link, a);
  await until('B to read the link share', async () => ((await detail(b, share.infoHash)).files?.[0]?.progress === 1 ? true : undefined), 60_000);
  assert.ok(readFileSync(join(root, 'b-dl', 'report.pdf')).equals(data));
  const bView = await detail(b, share.infoHash);
  assert.equal(bView.name, 'report.pdf');
  // The key never reached the stored source or the magnet B shows.
  assert.doesNotMatch(bView.magnet, /#|k=/);
  const key = share.link.split('#k=')[1];
  for (const file of filesUnder(b.stateDir)) assert.equal(readFileSync(file).indexOf(key), -1, `the link's key is in ${file} as text`);
  // A private share downloads whole: no file selection.
  const select = await b.api(`/api/torrents/${share.infoHash}/files`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ selected: [0] }) });
  assert.equal(select.status, 409);
  // After a restart B still reads it (the link's key was kept), without writing the plaintext again.
  const written = statSync(join(root, 'b-dl', 'report.pdf')).mtimeMs;
  await b.stop();
  const b2 = await startServe(fileScope, { stateDir: b.stateDir, args: ['--download-dir', join(root, 'b-dl')] });
  nodes.b = b2;
  const again = await until('B to read it after a restart', async () => {
    const d = await detail(b2, share.infoHash);
    return d.decryptable && d.files?.[0]?.progress === 1 ? d : undefined;
  });
  assert.equal(again.name, 'report.pdf');
  assert.equal(statSync(join(root, 'b-dl', 'report.pdf')).mtimeMs, written);

  // C: the magnet alone, then a link whose key is someone else's.
  await addUri(c, share.magnet, a);
  const cView = await until('C to say it cannot read it', async () => {
    const d = await detail(c, share.infoHash);
    return d.decryptable === false && d.error ? d : undefined;
  });
  assert.match(cView.error, /opens only with its link/);
  const wrong = `${share.magnet}#k=${Buffer.alloc(32, 7).toString('base64url')}`;
  await addUri(c, wrong, a);
  const wrongView = await until('C to refuse the wrong key', async () => {
    const d = await detail(c, share.infoHash);
    return /does not open this share/.test(d.error ?? '') ? d : undefined;
  });
  assert.equal(wrongView.decryptable, false);
  assert.doesNotMatch(wrongView.error, /corrupt|tamper/i);
  // A link cut short is refused at once.
  const cut = await c.api('/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: share.link.slice(0, -5) }) });
  assert.equal(cut.status, 400);
  assert.match(((await cut.json()) as { message: string }).message, /cut short or changed/);
  assert.equal(existsSync(join(root, 'c-dl', 'report.pdf')), false);

  // The right link after all: C, which stored the ciphertext before it had a key, reads it from there.
  await addUri(c, share.link, a);
  const late = await until('C to read it with the right link', async () => {
    const d = await detail(c, share.infoHash);
    return d.decryptable && d.files?.[0]?.progress === 1 ? d : undefined;
  }, 60_000);
  assert.equal(late.error, null);
  assert.ok(readFileSync(join(root, 'c-dl', 'report.pdf')).equals(data));
});

test('cascade create --encrypt / --to and cascade add LINK: shares made offline, seeded by one node, read by another', { timeout: 180_000 }, async () => {
  const { root, a, b } = await sharedNodes();
  const src = join(root, 'src');
  mkdirSync(join(src, 'album'), { recursive: true });
  const song = contentOf(200_000);
  const cover = randomBytes(5000);
  writeFileSync(join(src, 'album', 'song.flac'), song);
  writeFileSync(join(src, 'cover.jpg'), cover);
  const seedDir = join(root, 'a-dl');
  mkdirSync(seedDir, { recursive: true });

  // By link, two paths in one share.
  const made = await cascade(['create', join(src, 'album'), join(src, 'cover.jpg'), '--encrypt', '-o', join(seedDir, 'mine.torrent'), '--json']);
  assert.equal(made.code, 0, made.stderr);
  const ev = made.json;
  assert.equal(ev.encrypted, true);
  assert.match(ev.name, /^cascade-private-/);
  assert.match(ev.link, /#k=/);
  assert.equal(ev.data, join(seedDir, ev.name));
  assert.equal(readFileSync(ev.data).indexOf(MARKER), -1, 'the ciphertext holds no plaintext');
  // Human mode prints the link alone on stdout.
  const human = await cascade(['create', join(src, 'cover.jpg'), '--encrypt', '-o', join(root, 'other.torrent')]);
  assert.match(human.stdout.trim(), /^magnet:\?[^\s]+#k=[A-Za-z0-9_-]{43}$/);
  assert.match(human.stderr, /cannot be taken back/);

  const added = await a.here(['add', ev.torrent, '--save-path', seedDir, '--json']);
  assert.equal(added.code, 0, added.stderr);
  await until('A to seed the ciphertext', async () => ((await detail(a, ev.infoHash)).state === 'seeding' ? true : undefined));
  // A made no share of its own here and has no key: it seeds, it cannot read.
  assert.equal((await detail(a, ev.infoHash)).decryptable, false);

  const viaLink = await b.here(['add', ev.link, '--peer', `127.0.0.1:${a.btPort}`, '--json']);
  assert.equal(viaLink.code, 0, viaLink.stderr);
  await until('B to write the plaintext', async () => {
    const d = await detail(b, ev.infoHash);
    return d.files?.length === 2 && d.files.every((f: { progress: number }) => f.progress === 1) ? true : undefined;
  }, 60_000);
  const name = (await detail(b, ev.infoHash)).name as string;
  assert.equal(name, 'album and 1 more');
  assert.ok(readFileSync(join(root, 'b-dl', name, 'album', 'song.flac')).equals(song));
  assert.ok(readFileSync(join(root, 'b-dl', name, 'cover.jpg')).equals(cover));

  // For a did: only that identity reads it.
  const bDid = await didOf(b);
  const forB = await cascadeHere(['create', join(src, 'cover.jpg'), '--to', bDid, '-o', join(root, 'forb.torrent'), '--json']);
  assert.equal(forB.code, 0, forB.stderr);
  assert.equal(forB.json.recipients, 1);
  assert.equal(forB.json.link, undefined);
  // Bad input is a usage error naming it.
  const bad = await cascade(['create', join(src, 'cover.jpg'), '--to', 'did:key:zNOPE']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--to did:key:zNOPE: not an Ed25519 did:key/);
  const both = await cascadeHere(['create', join(src, 'cover.jpg'), '--to', bDid, '--encrypt']);
  assert.equal(both.code, 2);
  const several = await cascadeHere(['create', join(src, 'cover.jpg'), join(src, 'album')]);
  assert.equal(several.code, 2);
  assert.match(several.stderr, /private share/);
});

test('a tampered share: a changed chunk is refused naming it and never written; a changed manifest says tampered', { timeout: 180_000 }, async () => {
  const { root, a, b } = await sharedNodes();
  const bDid = await didOf(b);
  const data = contentOf(400_000);
  const plainPath = join(root, 'clip.mp4');
  writeFileSync(plainPath, data);
  const seedDir = join(root, 'a-dl');
  mkdirSync(seedDir, { recursive: true });
  // A sharer's client that changes a chunk after sealing it (the torrent's hashes cover the change,
  // so BitTorrent itself cannot notice: only the chunk's authentication can).
  const sealed = await sealFiles(plainPath, seedDir, [recipientKeyFromDid(bDid)], { chunk: 16384 });
  const cipher = readFileSync(sealed.cipherPath);
  const chunk = 3;
  cipher[chunk * 16384 + 100]! ^= 0xff;
  writeFileSync(sealed.cipherPath, cipher);
  const { torrent, metainfo } = await createTorrent(sealed.cipherPath, { extraInfo: { [INFO_KEY]: sealed.info as never } });
  writeFileSync(join(root, 'tampered.torrent'), torrent);
  assert.equal((await a.here(['add', join(root, 'tampered.torrent'), '--save-path', seedDir])).code, 0);
  await b.here(['add', join(root, 'tampered.torrent'), '--peer', `127.0.0.1:${a.btPort}`]);
  const view = await until('B to refuse the chunk', async () => {
    const d = await detail(b, metainfo.infoHashHex);
    return d.error ? d : undefined;
  }, 60_000);
  assert.match(view.error, /tampered with: chunk 3 of this share failed authentication/);
  assert.match(view.error, /Nothing of that was written/);
  // The plaintext never holds the changed chunk: its bytes are not there (zeros, or not written).
  const out = readFileSync(join(root, 'b-dl', 'clip.mp4'));
  const span = out.subarray(chunk * (16384 - 16), (chunk + 1) * (16384 - 16));
  assert.ok(span.every((x) => x === 0), 'the tampered chunk was not written');

  // A changed manifest (a new torrent: its infohash covers the entry).
  const bent = { ...sealed.info, manifest: Uint8Array.from(sealed.info.manifest) };
  bent.manifest[40]! ^= 1;
  const again = await createTorrent(sealed.cipherPath, { extraInfo: { [INFO_KEY]: bent as never } });
  writeFileSync(join(root, 'bent.torrent'), again.torrent);
  await b.here(['add', join(root, 'bent.torrent'), '--save-path', join(root, 'b-bent')]);
  const bentView = await until('B to call the manifest tampered', async () => {
    const d = await detail(b, again.metainfo.infoHashHex);
    return d.error ? d : undefined;
  });
  assert.match(bentView.error, /tampered with: the share's manifest failed authentication/);
  assert.equal(bentView.decryptable, false);
});
