// What the compatible APIs remember in the state (src/stores/state.ts), through two stores on the
// same database (two cluster members): a record set through one is read through the other; a
// prefix lists a session's records and nothing of another's; failed logins reaching either member
// count together to the ban, which ends by itself; a success forgets them; Transmission's torrent
// ids are given once, the same through either, never twice.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CompatStateStore } from '../src/stores/state.ts';
import type { Open } from '../../node/test/store-engines.ts';

const HOUR = 3_600_000;

export async function compatStateCases(t: TestContext, open: Open): Promise<void> {
  await t.test('compat state (src/stores/state.ts): records and failed logins shared by two members', async (t) => {
    const s = await open(t);
    const a = new CompatStateStore(s);
    const b = new CompatStateStore(s);
    await a.set('transmission', 'session-memory', { speedDown: 70, ratio: 1.5 });
    assert.deepEqual(await b.get('transmission', 'session-memory'), { speedDown: 70, ratio: 1.5 });
    await b.set('transmission', 'session-memory', { speedDown: 80 });
    assert.deepEqual(await a.get('transmission', 'session-memory'), { speedDown: 80 }, 'replaced');
    assert.equal(await a.get('qbittorrent', 'session-memory'), undefined, 'per API');
    await a.set('qbittorrent', 'search:s1%:1', { running: true });
    await a.set('qbittorrent', 'search:s1%:2', { running: false });
    await a.set('qbittorrent', 'search:s1x:3', { running: false });
    assert.deepEqual((await b.list('qbittorrent', 'search:s1%:')).map(([n]) => n), ['search:s1%:1', 'search:s1%:2'], "a session's own, '%' taken as itself");
    await b.delete('qbittorrent', 'search:s1%:1');
    assert.deepEqual((await a.list('qbittorrent', 'search:s1%:')).map(([n]) => n), ['search:s1%:2']);

    let now = 1_764_000_000_000; // ms since the epoch: past 32 bits
    for (let i = 1; i <= 4; i++) assert.equal(await (i % 2 ? a : b).loginFailed('qbittorrent', '10.0.0.1', 5, HOUR, now), i, 'counted together');
    assert.equal(await a.isBanned('qbittorrent', '10.0.0.1', now), false);
    await b.loginFailed('qbittorrent', '10.0.0.1', 5, HOUR, now);
    assert.equal(await a.isBanned('qbittorrent', '10.0.0.1', now), true, 'the fifth, through the other member: banned on both');
    assert.equal(await b.isBanned('qbittorrent', '10.0.0.2', now), false, 'another address');
    assert.equal(await b.isBanned('transmission', '10.0.0.1', now), false, 'another API');
    now += HOUR;
    assert.equal(await b.isBanned('qbittorrent', '10.0.0.1', now), false, 'the ban ends');
    assert.equal(await a.loginFailed('qbittorrent', '10.0.0.1', 5, HOUR, now), 1, 'counted from the start again');
    await b.loginSucceeded('qbittorrent', '10.0.0.1');
    assert.equal(await a.loginFailed('qbittorrent', '10.0.0.1', 5, HOUR, now), 1, 'a success forgets them');
    await a.loginFailed('qbittorrent', '10.0.0.3', 5, HOUR, now);
    now += 2 * HOUR;
    await a.loginFailed('qbittorrent', '10.0.0.4', 5, HOUR, now);
    assert.deepEqual((await s.all<{ address: string }>('SELECT address FROM compat_login_failures ORDER BY address')).map((r) => r.address), ['10.0.0.4'], 'old failures forgotten');

    // Transmission's torrent ids: given in order, read the same through the other member, never reused.
    const [h1, h2, h3, h4, h5] = ['1', '2', '3', '4', '5'].map((c) => c.repeat(40)) as [string, string, string, string, string];
    assert.deepEqual([...(await a.torrentIds('transmission', [h1, h2]))], [[h1, 1], [h2, 2]]);
    assert.deepEqual([...(await b.torrentIds('transmission', [h2, h3]))].sort(), [[h2, 2], [h3, 3]]);
    await s.run("DELETE FROM torrents WHERE info_hash = ?", [h3]); // (a removal leaves its id taken)
    const racing = await Promise.all([a.torrentIds('transmission', [h4]), b.torrentIds('transmission', [h5])]);
    assert.deepEqual(racing.map((m) => [...m.values()][0]).sort(), [4, 5], 'two members at once: each its own id');
    assert.deepEqual([...(await a.torrentIds('qbittorrent', [h1]))], [[h1, 1]], 'per API');
  });
}
