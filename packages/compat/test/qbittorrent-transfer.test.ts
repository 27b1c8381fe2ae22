// A real download driven through the qBittorrent API: a second node shares a file through Cascade's
// own API; @ctrl/qbittorrent adds its magnet to this node with a category and a save path; the
// metadata and the data arrive from the other node, and the API shows the torrent go from
// metaDL/downloading to a seeding state with the bytes on disk where it said.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formWith, patternBytes, startTestServer } from '../../http/test/server-helpers.ts';
import { startQbNode, waitFor } from './qbittorrent-helpers.ts';
import { assertSameBytes } from '../../../scripts/assert-bytes.ts';

test('a magnet added through the qBittorrent API downloads from another node', { timeout: 90_000 }, async (t) => {
  const seeder = await startTestServer(t);
  const { s, client } = await startQbNode(t);
  const data = patternBytes(300 * 1024, 11);
  const up = await seeder.json('/api/torrents', { method: 'POST', body: formWith([['episode.mkv', data]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const hash = up.body.infoHash as string;
  const magnet = up.body.magnet as string;
  assert.match(magnet, /&tr=/, 'the magnet names the seeder’s tracker');
  await waitFor('the seeder in its tracker', () => (seeder.tracker!.swarm(hash).complete >= 1 ? true : undefined));

  const saveDir = join(s.root, 'tv');
  await client.addMagnet(magnet, { savepath: saveDir, category: 'tv', tags: 'from-peer' });
  const peers0 = await client.torrentPeers(hash);
  assert.equal(peers0.full_update, true);
  const seen = new Set<string>();
  const done = await waitFor('the download to finish', async () => {
    const [x] = await client.listTorrents({ hashes: hash });
    if (x) seen.add(x.state);
    return x && x.progress === 1 && ['uploading', 'stalledUP'].includes(x.state) ? x : undefined;
  }, 60_000);
  t.diagnostic(`states seen while downloading: ${[...seen].join(', ')}`);
  assert.ok([...seen].every((st) => ['metaDL', 'stalledDL', 'downloading', 'checkingDL', 'queuedDL', 'uploading', 'stalledUP'].includes(st)), [...seen].join());
  assert.equal(done.name, 'episode.mkv');
  assert.equal(done.size, data.length);
  assert.equal(done.downloaded >= data.length, true);
  assert.equal(done.category, 'tv');
  assert.equal(done.tags, 'from-peer');
  assert.equal(done.content_path, join(saveDir, 'episode.mkv'));
  assert.ok(done.completion_on > 0);
  assertSameBytes(readFileSync(join(saveDir, 'episode.mkv')), data, 'the bytes are on disk where the API says');
  const files = await client.torrentFiles(hash);
  assert.equal(files[0]!.progress, 1);
  assert.equal(files[0]!.is_seed, true);
  const props = await client.torrentProperties(hash);
  assert.equal(props.total_downloaded >= data.length, true);
  assert.equal(props.pieces_have, props.pieces_num);
  const trackers = await client.torrentTrackers(hash);
  assert.ok(trackers.some((x) => x.url === seeder.tracker!.httpAnnounceUrl && x.status === 2), JSON.stringify(trackers));
  // sync/torrentPeers after its rid: only the differences. Replayed onto the first answer they give
  // the peers a full answer lists now; a peer that came is sent whole, one that went by its key.
  // (@ctrl's type has no peers_removed, which qBittorrent sends in a diff.)
  const diff: Partial<typeof peers0> & { peers_removed?: string[] } = await client.torrentPeers(hash, peers0.rid);
  const now = await client.torrentPeers(hash);
  assert.equal(diff.full_update, undefined);
  assert.ok(Object.keys(now.peers ?? {}).length >= 1, 'the seeder is still connected');
  const replayed = new Set(Object.keys(peers0.peers ?? {}));
  for (const k of diff.peers_removed ?? []) replayed.delete(k);
  for (const [k, p] of Object.entries(diff.peers ?? {})) {
    if (!replayed.has(k)) assert.equal(typeof (p as { ip?: unknown }).ip, 'string', `a new peer is sent whole: ${JSON.stringify(p)}`);
    replayed.add(k);
  }
  assert.deepEqual([...replayed].sort(), Object.keys(now.peers ?? {}).sort());
  const transfer = await client.getSyncMainData(0);
  assert.ok((transfer.server_state!.dl_info_data as number) >= data.length, 'session download total counts it');
});
