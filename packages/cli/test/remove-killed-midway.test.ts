// A single node killed during a removal with the data (issue 63): the removal takes the library's
// rows in one transaction and deletes the files after it. Killed in between, the torrent was gone
// and its files stayed for good, named by nothing. The removal now keeps the node's own tombstone
// (its holder row, with the resume record that names the files) until the files are gone, and
// `serve` finishes such removals at its start, by the names the files had (a rename's too).
//
// The kill's instant is made exact: the node is stopped, and the removal's first half is run on its
// database by the node's own code (records.remove, as removeNow runs it), which is the state a
// SIGKILL right after that transaction leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StateDB } from '@cascade/node';
import { startServe, until, type ServeNode } from './node-process.ts';
import { tempDir } from './helpers.ts';

async function share(node: ServeNode, name: string, data: Uint8Array): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(data)]), name);
  const r = await node.api('/api/torrents', { method: 'POST', body: form });
  const body = (await r.json()) as Record<string, any>;
  assert.equal(r.status, 201, JSON.stringify(body));
  return body.infoHash as string;
}

async function rows(node: ServeNode): Promise<{ infoHash: string; state: string }[]> {
  const body = (await (await node.api('/api/torrents')).json()) as { torrents?: { infoHash: string; state: string }[] } | { infoHash: string; state: string }[];
  return Array.isArray(body) ? body : body.torrents ?? [];
}

/** qBittorrent's renameFile, as a *arr client renames a download (its names are the library's). */
async function renameFile(node: ServeNode, ih: string, oldPath: string, newPath: string): Promise<void> {
  const form = (f: Record<string, string>) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(f).toString() });
  const login = await fetch(`${node.url}/api/v2/auth/login`, form({ username: 'admin', password: node.token }));
  const sid = /SID=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(sid, `a qBittorrent session: ${login.status} ${await login.text()}`);
  const r = await fetch(`${node.url}/api/v2/torrents/renameFile`, { ...form({ hash: ih, oldPath, newPath }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `SID=${sid}` } });
  assert.equal(r.status, 200, await r.text());
}

async function listed(node: ServeNode): Promise<string[]> {
  return (await rows(node)).map((t) => t.infoHash);
}

test('a removal with the data killed after its rows went deletes the files at the next start, and nothing else', { timeout: 120_000 }, async (t) => {
  const root = tempDir(t);
  const dl = join(root, 'dl');
  const args = { args: ['--download-dir', dl] };
  let node = await startServe(t, args);
  const [gone, kept] = [randomBytes(200_000), randomBytes(100_000)];
  const goneIh = await share(node, 'gone.bin', gone);
  const keptIh = await share(node, 'kept.bin', kept);
  let seen: unknown;
  await until('both to seed', async () => {
    const now = (seen = await rows(node));
    return now.length === 2 && now.every((r) => r.state === 'seeding') ? true : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(seen)}`);
  });
  // Renamed first: the removal's tombstone keeps the names (the library's row, which had them,
  // goes with the rows; the .torrent's names found nothing and the renamed file stayed).
  await renameFile(node, goneIh, 'gone.bin', 'gone-renamed.bin');
  await until('the rename on disk', async () => (existsSync(join(dl, 'gone-renamed.bin')) ? true : undefined));
  const stateDir = node.stateDir;
  await node.stop();

  // The removal's first half: the library's rows, in one transaction; then the kill.
  const db = await StateDB.open(stateDir);
  try {
    await db.records.remove([goneIh], true, new Map());
  } finally {
    await db.close();
  }
  assert.ok(existsSync(join(dl, 'gone-renamed.bin')), 'the files are there after the rows went (the kill)');

  node = await startServe(t, { ...args, stateDir });
  assert.deepEqual(await listed(node), [keptIh], 'the removed torrent stays removed, the other stays');
  assert.equal(existsSync(join(dl, 'gone-renamed.bin')), false, 'the removed torrent\'s (renamed) file is deleted at the start');
  assert.ok(readFileSync(join(dl, 'kept.bin')).equals(kept), 'the other torrent\'s file is untouched');
  await node.stop();

  // Nothing of it is left in the database either: no tombstone, no resume record.
  const after = await StateDB.open(stateDir);
  try {
    const left = await after.store.all<{ n: number }>('SELECT (SELECT COUNT(*) FROM torrent_holders WHERE info_hash = ?) + (SELECT COUNT(*) FROM resume WHERE info_hash = ?) AS n', [goneIh, goneIh]);
    assert.equal(left[0]!.n, 0, 'no holder row or resume record of the removed torrent');
  } finally {
    await after.close();
  }
});

test("a private share's removal with the data killed after its rows went deletes its plaintext at the next start", { timeout: 120_000 }, async (t) => {
  const root = tempDir(t);
  const dl = join(root, 'dl');
  const args = { args: ['--download-dir', dl] };
  let node = await startServe(t, args);
  const form = new FormData();
  form.append('encrypt', 'true');
  form.append('file', new Blob([new Uint8Array(randomBytes(150_000))]), 'minutes.pdf');
  const made = await node.api('/api/torrents', { method: 'POST', body: form });
  const body = (await made.json()) as Record<string, any>;
  assert.equal(made.status, 201, JSON.stringify(body));
  const ih = body.infoHash as string;
  const plain = join(dl, 'minutes.pdf');
  await until('the share to seed', async () => ((await rows(node)).some((r) => r.infoHash === ih && r.state === 'seeding') ? true : undefined));
  assert.ok(existsSync(plain), 'its plaintext is in the download dir');
  const stateDir = node.stateDir;
  await node.stop();

  // The rows' half of the removal as removeNow runs it for a share: its plaintext named for the tombstone.
  const db = await StateDB.open(stateDir);
  try {
    await db.records.remove([ih], true, new Map(), new Map([[ih, plain]]));
  } finally {
    await db.close();
  }
  node = await startServe(t, { ...args, stateDir });
  assert.deepEqual(await listed(node), [], 'the share stays removed');
  assert.equal(existsSync(plain), false, 'its plaintext is deleted at the start');
  await node.stop();
});
