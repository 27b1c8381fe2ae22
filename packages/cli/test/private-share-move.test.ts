// Moving a private share's data (issue 44 item 6) between real `cascade serve` nodes on loopback,
// through each door that moves data: the sharer's node (ciphertext and its plaintext original) with
// `cascade move`, a recipient that keeps the plaintext only through the API, and one that keeps the
// ciphertext with the plaintext written beside it through qBittorrent's setLocation. Each reads and
// seeds from the new place, and a recheck finds it whole; a move onto files already there is
// refused and leaves everything where it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ok, startServe, until, type ServeNode } from './node-process.ts';
import { tempDir } from './helpers.ts';

async function detail(node: ServeNode, ih: string): Promise<Record<string, any>> {
  return (await (await node.api(`/api/torrents/${ih}`)).json()) as Record<string, any>;
}

async function addUri(node: ServeNode, uri: string, peer: ServeNode): Promise<void> {
  const r = await node.api('/api/torrents', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri, peers: [`127.0.0.1:${peer.btPort}`] }),
  });
  assert.ok(r.status === 201 || r.status === 200, await r.text());
}

/** Seeding, whole, and every plaintext file written. */
function whole(d: Record<string, any>): boolean {
  return d.state === 'seeding' && d.progress === 1 && d.files?.length === 2 && d.files.every((f: { progress: number }) => f.progress === 1);
}

async function fileText(node: ServeNode, ih: string, index: number): Promise<Buffer> {
  const r = await node.api(`/api/torrents/${ih}/files/${index}`);
  assert.equal(r.status, 200);
  return Buffer.from(await r.arrayBuffer());
}

test('a private share moves with everything the node keeps of it, through cascade move, the API and setLocation', { timeout: 240_000 }, async (t) => {
  const root = tempDir(t);
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => startServe(t, { args: ['--download-dir', join(root, `${n}-dl`)] })));
  const film = randomBytes(700_000);
  const notes = Buffer.from('where the key is hidden\n');
  const form = new FormData();
  form.append('encrypt', 'true');
  form.append('files', new Blob([new Uint8Array(film)]), 'Trip/film.mkv');
  form.append('files', new Blob([new Uint8Array(notes)]), 'Trip/notes.txt');
  const made = await a.api('/api/torrents', { method: 'POST', body: form });
  const share = (await made.json()) as Record<string, any>;
  assert.equal(made.status, 201, JSON.stringify(share));
  const ih = share.infoHash as string;
  const cipherName = share.name as string;

  // B opens the link from the start (it keeps the plaintext only); C gets the ciphertext first and
  // the link after (it keeps the ciphertext and writes the plaintext beside it).
  await addUri(b, share.link, a);
  await addUri(c, share.magnet, a);
  await until('C to have the ciphertext', async () => ((await detail(c, ih)).progress === 1 ? true : undefined), 60_000);
  await addUri(c, share.link, a);
  for (const n of [a, b, c]) await until('the plaintext to be whole', async () => (whole(await detail(n, ih)) ? true : undefined), 60_000);
  assert.deepEqual(readdirSync(join(root, 'b-dl')), ['Trip'], 'B keeps the plaintext only');
  assert.deepEqual(readdirSync(join(root, 'c-dl')).sort(), ['Trip', cipherName].sort(), 'C keeps both');
  const cipherBytes = readFileSync(join(root, 'a-dl', cipherName));

  // A, the sharer, with `cascade move`: the ciphertext and the plaintext go together.
  const aTo = join(root, 'a-moved');
  const moved = await ok(a, ['move', ih.slice(0, 8), aTo, '--json']);
  assert.deepEqual([moved.json.from, moved.json.savePath], [join(root, 'a-dl'), aTo]);
  assert.deepEqual(readdirSync(aTo).sort(), ['Trip', cipherName].sort());
  assert.deepEqual(readdirSync(join(root, 'a-dl')), [], 'nothing of the share is left in the old place');
  assert.ok(readFileSync(join(aTo, cipherName)).equals(cipherBytes));

  // B through the API.
  const bTo = join(root, 'b-moved');
  const patched = await b.api(`/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: bTo }) });
  assert.equal(patched.status, 200, await patched.clone().text());
  assert.equal(((await patched.json()) as { savePath: string }).savePath, bTo);
  assert.deepEqual(readdirSync(bTo), ['Trip']);
  assert.deepEqual(readdirSync(join(root, 'b-dl')), []);

  // C: onto a folder that holds a "Trip" of someone else's first (refused, nothing lost), then
  // through qBittorrent's setLocation.
  const taken = join(root, 'taken');
  mkdirSync(join(taken, 'Trip'), { recursive: true });
  writeFileSync(join(taken, 'Trip', 'film.mkv'), 'not the share');
  const refused = await c.run(['move', ih, taken]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /already exists/);
  assert.equal(readFileSync(join(taken, 'Trip', 'film.mkv'), 'utf8'), 'not the share');
  assert.deepEqual(readdirSync(join(root, 'c-dl')).sort(), ['Trip', cipherName].sort(), 'a refused move leaves the data where it was');
  assert.equal((await detail(c, ih)).savePath, join(root, 'c-dl'));
  const login = await fetch(`${c.url}/api/v2/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'cascade', password: c.token }) });
  assert.equal(login.status, 200);
  const sid = login.headers.get('set-cookie')!.split(';')[0]!;
  const cTo = join(root, 'c-moved');
  const located = await fetch(`${c.url}/api/v2/torrents/setLocation`, { method: 'POST', headers: { cookie: sid }, body: new URLSearchParams({ hashes: ih, location: cTo }) });
  assert.equal(located.status, 200, await located.text());
  assert.deepEqual(readdirSync(cTo).sort(), ['Trip', cipherName].sort());
  assert.deepEqual(readdirSync(join(root, 'c-dl')), []);

  // Each reads from the new place, byte for byte, and a recheck finds it whole there.
  for (const [n, to] of [[a, aTo], [b, bTo], [c, cTo]] as const) {
    assert.ok(readFileSync(join(to, 'Trip', 'film.mkv')).equals(film));
    assert.ok(readFileSync(join(to, 'Trip', 'notes.txt')).equals(notes));
    const d = await until('the share to run on from its new place', async () => {
      const x = await detail(n, ih);
      return whole(x) ? x : undefined;
    });
    assert.deepEqual([d.savePath, d.decryptable, d.error], [to, true, null]);
    assert.ok((await fileText(n, ih, 0)).equals(film));
    assert.equal((await fileText(n, ih, 1)).toString(), notes.toString());
    await ok(n, ['recheck', ih]);
  }
  for (const n of [a, b, c]) await until('the recheck to find it whole', async () => (whole(await detail(n, ih)) ? true : undefined), 60_000);

  // B seeds from the new place: with A and C gone, D gets the whole ciphertext from B alone, every
  // piece passing its hash.
  await Promise.all([a.stop(), c.stop()]);
  const d = await startServe(t, { args: ['--download-dir', join(root, 'd-dl')] });
  await addUri(d, share.magnet, b);
  await until('D to have the ciphertext from B', async () => ((await detail(d, ih)).progress === 1 ? true : undefined), 60_000);
  assert.ok(readFileSync(join(root, 'd-dl', cipherName)).equals(cipherBytes));
});
