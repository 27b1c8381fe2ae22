// auth/member-store.ts on the Store: members and their roles, one owner (claimed once, handed over,
// reset), and sessions, whose number is bounded.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { AuthStore, MAX_SESSIONS } from '../../src/auth/member-store.ts';
import type { Open } from '../store-engines.ts';

const ALICE = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
const BOB = '0x' + 'Ab'.repeat(20);

export async function authCases(t: TestContext, open: Open): Promise<void> {
  await t.test('members (auth/member-store.ts): roles, one owner claimed once, handed over, reset', async (t) => {
    const auth = new AuthStore({ store: await open(t) });
    assert.equal(await auth.owner(), undefined);
    const claims = await Promise.all([auth.claimOwnership(ALICE), auth.claimOwnership(BOB)]);
    assert.deepEqual(claims.sort(), [false, true], 'two claims at once: one wins');
    const first = (await auth.owner())!.id;
    const other = first === ALICE ? BOB.toLowerCase() : ALICE;
    assert.deepEqual(await auth.addMember(other, 'viewer', first), { member: (await auth.member(other))!, existing: false });
    assert.equal((await auth.addMember(other, 'admin', first)).member.role, 'viewer', 'unchanged without changeRole');
    assert.equal((await auth.addMember(other, 'admin', first, true)).member.role, 'admin');
    assert.equal(await auth.roleOf(null, other.toUpperCase().replace('0X', '0x'), first), 'owner', 'the strongest role');
    assert.equal((await auth.transferOwnership(other, first))!.id, other);
    assert.deepEqual((await auth.members()).map((m) => [m.id, m.role]), [[other, 'owner'], [first, 'admin']]);
    assert.equal(await auth.resetOwner(), other);
    assert.equal(await auth.transferOwnership(first, 'cli'), undefined, 'no owner to hand over from');
    assert.equal(await auth.removeMember(first), true);
    assert.equal(await auth.removeMember(first), false);
    assert.deepEqual(await auth.members(), []);
  });

  await t.test(`sessions (auth/member-store.ts): kept, expired, ended; past ${MAX_SESSIONS} the oldest go`, async (t) => {
    const store = await open(t);
    const auth = new AuthStore({ store });
    const now = Date.now();
    const mine = await auth.createSession({ did: ALICE, address: BOB }, now);
    assert.deepEqual(await auth.session(mine, now), { did: ALICE, address: BOB.toLowerCase(), createdAt: now, expiresAt: now + 30 * 24 * 3600 * 1000 });
    assert.equal(await auth.session(mine, now + 31 * 24 * 3600 * 1000), undefined);
    // Older sessions up to the bound, made in one statement (both engines take a recursive WITH).
    await store.run(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO sessions (token_hash, did, address, created_at, expires_at) SELECT 'old' || i, NULL, NULL, i, ? FROM n`,
      [MAX_SESSIONS, now + 1000],
    );
    const newest = await auth.createSession({ did: null, address: BOB }, now);
    assert.equal((await store.get<{ n: number }>('SELECT count(*) AS n FROM sessions'))!.n, MAX_SESSIONS);
    assert.ok(await auth.session(newest, now));
    assert.ok(await auth.session(mine, now), 'the oldest went, not the newest');
    assert.equal(await store.get("SELECT 1 AS x FROM sessions WHERE token_hash = 'old1'"), undefined);
    await auth.endSession(mine);
    assert.equal(await auth.session(mine, now), undefined);
  });
}
