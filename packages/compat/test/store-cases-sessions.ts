// The compatible APIs' sessions in the state (src/stores/sessions.ts): a session started through
// one store is live through another on the same database (two cluster members), ends for both on
// logout, ends when idle past the timeout, keeps its idle clock with one write a minute, and past
// the most sessions the least recently used goes. Only a hash of the cookie is stored. A use answers
// the credential the session was opened with, and revoke() ends those of any other (issue 65).
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CompatSessionStore, TOUCH_EVERY_MS } from '../src/stores/sessions.ts';
import type { Open } from '../../node/test/store-engines.ts';

const HOUR = 3_600_000;
/** Two generations of the API token, as ApiToken.generation names them. */
const OLD = 'token:old';
const NEW = 'token:new';

export async function compatSessionCases(t: TestContext, open: Open): Promise<void> {
  await t.test('compat sessions (src/stores/sessions.ts): shared, ended, idle, capped, hashed, revoked', async (t) => {
    const s = await open(t);
    const a = new CompatSessionStore(s);
    const b = new CompatSessionStore(s);
    let now = 10 * HOUR;
    const sid = await a.start('qbittorrent', OLD, HOUR, 3, now);
    assert.match(sid, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(await b.use('qbittorrent', sid, HOUR, now), OLD, 'another store on the same state sees it, and what it was opened with');
    assert.equal(await b.use('transmission', sid, HOUR, now), undefined, "another API's sessions are its own");
    const rows = await s.all<{ token_hash: string }>('SELECT token_hash FROM compat_sessions');
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.token_hash, sid, 'the cookie itself is not stored');

    // Uses within a minute write nothing; later ones move the idle clock on.
    now += TOUCH_EVERY_MS / 2;
    await b.use('qbittorrent', sid, HOUR, now);
    assert.equal(Number((await s.get<{ last_seen: number }>('SELECT last_seen FROM compat_sessions'))!.last_seen), 10 * HOUR);
    now += TOUCH_EVERY_MS;
    await b.use('qbittorrent', sid, HOUR, now);
    assert.equal(Number((await s.get<{ last_seen: number }>('SELECT last_seen FROM compat_sessions'))!.last_seen), now);
    now += HOUR - 1;
    assert.equal(await a.use('qbittorrent', sid, HOUR, now), OLD, 'used within the hour');
    now += HOUR + 1;
    assert.equal(await a.use('qbittorrent', sid, HOUR, now), undefined, 'idle for over an hour: gone');
    assert.equal((await s.all('SELECT * FROM compat_sessions')).length, 0, 'and removed');

    // Logout through one ends it for the other.
    const other = await a.start('qbittorrent', OLD, HOUR, 3, now);
    await b.end(other);
    assert.equal(await a.use('qbittorrent', other, HOUR, now), undefined);

    // A rotation through one ends, for both, the sessions opened with the token before; not the
    // new one's, nor another API's.
    const before = [await a.start('qbittorrent', OLD, HOUR, 3, now), await a.start('qbittorrent', OLD, HOUR, 3, now)];
    const after = await a.start('qbittorrent', NEW, HOUR, 3, now);
    const elsewhere = await a.start('transmission', OLD, HOUR, 3, now);
    assert.equal(await b.revoke('qbittorrent', NEW), 2);
    assert.deepEqual(await Promise.all(before.map((id) => a.use('qbittorrent', id, HOUR, now))), [undefined, undefined]);
    assert.equal(await a.use('qbittorrent', after, HOUR, now), NEW);
    assert.equal(await a.use('transmission', elsewhere, HOUR, now), OLD);
    await a.end(after);

    // Past the cap the least recently used goes.
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await a.start('qbittorrent', NEW, HOUR, 3, (now += 1000)));
    await a.use('qbittorrent', ids[0]!, HOUR, (now += TOUCH_EVERY_MS + 1)); // the first is used again
    const fourth = await a.start('qbittorrent', NEW, HOUR, 3, (now += 1000));
    assert.deepEqual(
      await Promise.all([...ids, fourth].map((id) => a.use('qbittorrent', id, HOUR, now))),
      [NEW, undefined, NEW, NEW],
      'the second (least recently used) went',
    );
  });
}
