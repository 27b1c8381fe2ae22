// The peer and identity ledgers (state/ledger-records.ts) on both engines: batches of deltas
// stored in one transaction each and listed best first; the identity records in memory equal what
// the Store holds after each batch, and are read back at the next start; a failed batch stores
// nothing and changes nothing in memory.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityRecords, listPeers, recordPeers } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

const MiB = 1024 * 1024;

export async function ledgerCases(t: TestContext, open: Open): Promise<void> {
  await t.test('peer and identity ledgers (state/ledger-records.ts): deltas added up, the view is the Store', async (t) => {
    const store = await open(t);
    await recordPeers(store, [
      { address: '10.0.0.1:1', peerId: 'p1', up: 0, down: 2 * MiB, lastSeen: 10 },
      { address: '10.0.0.2:2', up: 2 * MiB, down: 0, lastSeen: 20 },
      { address: '10.0.0.3:3', up: 0, down: 50 * MiB, banned: 'bad hashes', lastSeen: 30 },
    ]);
    await recordPeers(store, [{ address: '10.0.0.1:1', up: MiB, down: MiB, lastSeen: 5 }]);
    const peers = await listPeers(store);
    assert.deepEqual(peers.map((p) => p.address), ['10.0.0.1:1', '10.0.0.2:2', '10.0.0.3:3'], 'best first, banned last');
    assert.deepEqual(peers[0], { address: '10.0.0.1:1', peerId: 'p1', score: 3.5, bytesUp: MiB, bytesDown: 3 * MiB, banned: false, banReason: null, lastSeen: 10 });
    assert.deepEqual([peers[2]!.banned, peers[2]!.banReason], [true, 'bad hashes']);
    assert.equal((await listPeers(store, 1)).length, 1);

    const ids = await IdentityRecords.load(store);
    const did = 'did:key:z6Mkone';
    await ids.record([{ did, account: '0xabc', verifiedBytes: 100, hashFailures: 0, bans: 0, lastSeen: 50 }]);
    await ids.record([{ did, verifiedBytes: 1, hashFailures: 2, bans: 1, lastSeen: 40 }, { did: 'did:key:z6Mktwo', verifiedBytes: 7, hashFailures: 0, bans: 0, lastSeen: 60 }]);
    const again = await IdentityRecords.load(store);
    assert.deepEqual(ids.get(did), { did, account: '0xabc', verifiedBytes: 101, hashFailures: 2, bans: 1, firstSeen: 50, lastSeen: 50 });
    for (const d of [did, 'did:key:z6Mktwo']) assert.deepEqual(ids.get(d), again.get(d), `${d}: memory is what the Store holds`);
    // A batch the Store refuses (verified_bytes is NOT NULL): nothing of it stored, nor in memory.
    await assert.rejects(ids.record([{ did, verifiedBytes: 5, hashFailures: 0, bans: 0, lastSeen: 70 }, { did: 'did:key:z6Mkthree', verifiedBytes: null as unknown as number, hashFailures: 0, bans: 0, lastSeen: 70 }]));
    assert.equal(ids.get(did)!.verifiedBytes, 101);
    assert.equal((await IdentityRecords.load(store)).get(did)!.verifiedBytes, 101);
  });
}
