// One node, three doors: torrents added and changed through Transmission RPC (the real
// transmission-remote 3.00), qBittorrent's Web API (the real @ctrl/qbittorrent) and Cascade's own
// API are the same torrents everywhere, and the web UI's live feed hears each change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { fileTorrent, startQbNode, waitFor } from './qbittorrent-helpers.ts';
import { remoteOk, rpcClient } from './transmission-helpers.ts';

interface Changes {
  updated: { infoHash: string; state: string; category: string | null; tags: string[]; downloadLimit: number }[];
  removed: string[];
}

/** Resolves with the first `torrents:changes` that `match` accepts. */
function nextChange(socket: Socket, match: (c: Changes) => boolean): Promise<Changes> {
  return new Promise((resolve) => {
    const on = (c: Changes) => {
      if (!match(c)) return;
      socket.off('torrents:changes', on);
      resolve(c);
    };
    socket.on('torrents:changes', on);
  });
}

test('a torrent added or changed through any door is the same torrent through the other two and in the live feed', { timeout: 120_000 }, async (t) => {
  const { s, client } = await startQbNode(t);
  const rpc = rpcClient(s);
  const socket = io(s.url, { forceNew: true, reconnection: false, transports: ['websocket'], extraHeaders: { authorization: `Bearer ${s.token}` } });
  t.after(() => socket.disconnect());
  const cascade = async () => ((await s.json('/api/torrents')).body.torrents as { infoHash: string; name: string; state: string; category: string | null; tags: string[]; savePath: string; downloadLimit: number }[]);
  const byHash = async (h: string) => (await cascade()).find((x) => x.infoHash === h);

  // Door 1, Transmission: a .torrent whose data is already in the folder it names (so it seeds).
  const dirA = join(s.root, 'from-transmission');
  const a = await fileTorrent(dirA, 'alpha.bin', 64 * 1024, 1);
  const fileA = join(s.root, 'alpha.torrent');
  writeFileSync(fileA, a.torrent);
  const heardA = nextChange(socket, (c) => c.updated.some((e) => e.infoHash === a.infoHash));
  await remoteOk(s, ['-a', fileA, '-w', dirA]);
  await heardA;

  // Door 2, qBittorrent: a .torrent with an unknown category (created) and tags.
  const dirB = join(s.root, 'from-qbittorrent');
  const b = await fileTorrent(dirB, 'beta.bin', 48 * 1024, 2);
  await client.addTorrent(Buffer.from(b.torrent), { savepath: dirB, category: 'films', tags: 'hd,new' });

  // Door 3, Cascade's own API: a share of uploaded bytes.
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(32 * 1024).fill(3)]), 'gamma.bin');
  const up = await s.json('/api/torrents', { method: 'POST', body: form });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const c = up.body.infoHash as string;

  const all = [a.infoHash, b.infoHash, c];
  await waitFor('all three seeding in Cascade', async () => {
    const rows = await cascade();
    return all.every((h) => rows.find((x) => x.infoHash === h)?.state === 'seeding') ? true : undefined;
  });
  // Each door lists the other doors' torrents.
  const listed = await remoteOk(s, ['-l']);
  for (const name of ['alpha.bin', 'beta.bin', 'gamma.bin']) assert.match(listed, new RegExp(`100%.*${name.replace('.', '\\.')}`), listed);
  assert.deepEqual((await client.listTorrents()).map((x) => x.hash).sort(), [...all].sort());
  const got = await rpc.ok('torrent-get', { fields: ['hashString', 'downloadDir', 'labels'], ids: all });
  const tr = new Map<string, { downloadDir: string; labels: string[] }>(got.torrents.map((x: any) => [x.hashString, x]));
  assert.equal(tr.get(a.infoHash)!.downloadDir, dirA);
  assert.deepEqual(tr.get(b.infoHash)!.labels, ['films', 'hd', 'new'], 'qBittorrent category and tags are Transmission labels');
  assert.equal((await byHash(b.infoHash))!.category, 'films');
  assert.deepEqual((await byHash(b.infoHash))!.tags.sort(), ['hd', 'new']);

  // Changes cross doors too. Transmission stops the qBittorrent-added torrent:
  const idB = (await rpc.ok('torrent-get', { fields: ['id'], ids: [b.infoHash] })).torrents[0].id as number;
  const pausedB = nextChange(socket, (ch) => ch.updated.some((e) => e.infoHash === b.infoHash && e.state === 'paused'));
  await remoteOk(s, ['-t', String(idB), '-S']);
  await pausedB;
  assert.equal((await client.listTorrents({ hashes: b.infoHash }))[0]!.state, 'pausedUP');
  // qBittorrent files the Transmission-added torrent under the category:
  const filedA = nextChange(socket, (ch) => ch.updated.some((e) => e.infoHash === a.infoHash && e.category === 'films'));
  await client.setTorrentCategory(a.infoHash, 'films');
  await filedA;
  assert.ok((await rpc.ok('torrent-get', { fields: ['labels'], ids: [a.infoHash] })).torrents[0].labels.includes('films'));
  // Cascade's API limits the uploaded share; both other doors show the limit (Transmission in kB/s).
  const patched = await s.json(`/api/torrents/${c}`, { method: 'PATCH', json: { uploadLimit: 250_000 } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  const trC = (await rpc.ok('torrent-get', { fields: ['uploadLimit', 'uploadLimited'], ids: [c] })).torrents[0];
  assert.deepEqual([trC.uploadLimit, trC.uploadLimited], [250, true]);
  assert.equal((await client.listTorrents({ hashes: c }))[0]!.up_limit, 250_000);

  // qBittorrent deletes the Transmission-added torrent with its data: gone from every door.
  const goneA = nextChange(socket, (ch) => ch.removed.includes(a.infoHash));
  await client.removeTorrent(a.infoHash, true);
  await goneA;
  assert.equal(existsSync(a.path), false, 'its data is gone from disk');
  assert.equal(await byHash(a.infoHash), undefined);
  assert.doesNotMatch(await remoteOk(s, ['-l']), /alpha\.bin/);
  assert.equal((await rpc.ok('torrent-get', { fields: ['id'], ids: [a.infoHash] })).torrents.length, 0);
});
