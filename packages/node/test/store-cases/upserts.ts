// StateDB's upserts (state/upserts.ts) in the dialect both engines run: a re-added torrent keeps its
// bytes, magnet, place and hidden flag; the node key is made once; reputation and peer deltas add
// up, the later time and the ban winning.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { INSERT_IDENTITY, UPSERT_IDENTITY_LEDGER, UPSERT_PEER, UPSERT_TORRENT } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function upsertCases(t: TestContext, open: Open): Promise<void> {
  await t.test('StateDB upserts (state/upserts.ts): the same outcome on both engines', async (t) => {
    const s = await open(t);
    const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
    const bytes = new Uint8Array([100, 101]);
    // (info_hash, name, source_kind, torrent, magnet, save_path, status, selected_files, length, piece_count, added_at, private_discovery, mirrors)
    await s.run(UPSERT_TORRENT, [a, 'A', 'torrent', bytes, null, '/d', 'queued', null, 10, 1, 1, 1, '["http://m/1"]']);
    await s.run(UPSERT_TORRENT, [b, null, 'magnet', null, `magnet:?xt=urn:btih:${b}`, '/d', 'queued', null, null, null, 2, 0, null]);
    await s.run(UPSERT_TORRENT, [a, null, 'magnet', null, `magnet:?xt=urn:btih:${a}`, '/e', 'paused', '[0]', null, null, 3, 0, null]);
    const ra = await s.get<Record<string, unknown>>('SELECT * FROM torrents WHERE info_hash = ?', [a]);
    assert.deepEqual(
      [ra!.name, ra!.source_kind, new Uint8Array(ra!.torrent as Uint8Array), ra!.magnet, ra!.save_path, ra!.status, ra!.selected_files, ra!.length, ra!.private_discovery, ra!.mirrors, ra!.queue_position, ra!.added_at],
      ['A', 'torrent', bytes, `magnet:?xt=urn:btih:${a}`, '/e', 'paused', '[0]', 10, 1, '["http://m/1"]', 1, 1],
    );
    assert.equal((await s.get<{ q: number }>('SELECT queue_position AS q FROM torrents WHERE info_hash = ?', [b]))!.q, 2, 'added last');

    await s.run(INSERT_IDENTITY, ['', new Uint8Array(20).fill(1), 'first private', 'first public', 1]);
    await s.run(INSERT_IDENTITY, ['', new Uint8Array(20).fill(2), 'second private', 'second public', 2]);
    assert.deepEqual({ ...(await s.get('SELECT private_key, created_at FROM identity')) }, { private_key: 'first private', created_at: 1 });

    const did = 'did:key:z6Mkx';
    await s.run(UPSERT_IDENTITY_LEDGER, ['', did, null, 100, 0, 0, 50, 50]);
    await s.run(UPSERT_IDENTITY_LEDGER, ['', did, '0xacc', 5, 1, 1, 40, 40]);
    assert.deepEqual({ ...(await s.get('SELECT account, verified_bytes, hash_failures, bans, first_seen, last_seen FROM identity_ledger')) },
      { account: '0xacc', verified_bytes: 105, hash_failures: 1, bans: 1, first_seen: 50, last_seen: 50 });

    await s.run(UPSERT_PEER, ['', '10.0.0.1:1', 'peer', 1.5, 10, 20, 1, 'lied', 70]);
    await s.run(UPSERT_PEER, ['', '10.0.0.1:1', null, 0.5, 1, 2, 0, null, 60]);
    assert.deepEqual({ ...(await s.get('SELECT peer_id, score, bytes_up, bytes_down, banned, ban_reason, last_seen FROM peers')) },
      { peer_id: 'peer', score: 2, bytes_up: 11, bytes_down: 22, banned: 1, ban_reason: 'lied', last_seen: 70 });
  });

  await t.test('many torrents added in one transaction each, all at once: every one lands, each its own place', async (t) => {
    const s = await open(t);
    // Each add reads the queue's last position, so on PostgreSQL every two in flight conflict
    // (SERIALIZABLE) and are retried; a retry ceiling growing 10 ms a try let 0.1-0.5% of adds at 8
    // in flight run out of tries (bench:cluster). 48 at once is past that by far.
    const hashes = Array.from({ length: 48 }, (_, i) => i.toString(16).padStart(40, '0'));
    await Promise.all(hashes.map((ih, i) => s.transaction((tx) => tx.run(UPSERT_TORRENT, [ih, null, 'magnet', null, `magnet:?xt=urn:btih:${ih}`, '/d', 'queued', null, null, null, i, 0, null]))));
    const places = (await s.all<{ q: number }>('SELECT queue_position AS q FROM torrents')).map((r) => Number(r.q)).sort((x, y) => x - y);
    assert.deepEqual(places, hashes.map((_, i) => i + 1), 'every add, each at its own place');
  });
}
