// The engine's resume records (state/resume-records.ts) on both engines: saves given together
// written in one batch, the newest winning; a save without the info dict keeping the stored one;
// a removal then a save dropping it; the bitfields read at start and kept as saves come; a removed
// torrent's save on its way not coming back; a failed batch kept for the next.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ResumeRecords } from '@cascade/node-state';
import type { Open } from '../store-engines.ts';

export async function resumeCases(t: TestContext, open: Open): Promise<void> {
  await t.test('resume records (state/resume-records.ts): batched saves, the info dict kept, bitfields in memory', async (t) => {
    const store = await open(t);
    const resume = new ResumeRecords(store);
    await resume.load();
    const [a, b, c] = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
    const info = new Uint8Array([100, 52, 58]);
    const files = [{ length: 9, mtimeMs: 1_764_000_000_123 }];
    // Saves given in one turn: one batch; the later save of a wins, and keeps the info dict given before.
    await Promise.all([
      resume.save(a, { have: new Uint8Array([0x80]), infoBytes: info }),
      resume.save(a, { have: new Uint8Array([0xc0]), files }),
      resume.save(b, { have: new Uint8Array([0xff, 0x01]), infoBytes: info }),
    ]);
    assert.deepEqual(await resume.get(a), { have: new Uint8Array([0xc0]), infoBytes: info, files });
    assert.deepEqual([resume.verifiedPieces(a), resume.verifiedPieces(b), resume.verifiedPieces(c)], [2, 9, undefined]);
    // A later save without the info dict keeps the stored one (a magnet must not lose its metadata).
    await resume.save(a, { have: new Uint8Array([0xe0]) });
    assert.deepEqual(await resume.get(a), { have: new Uint8Array([0xe0]), infoBytes: info });
    // Removed, then saved again in the same batch: the old info dict goes with the removal.
    await Promise.all([resume.delete(b), resume.save(b, { have: new Uint8Array([0x01]) })]);
    assert.deepEqual(await resume.get(b), { have: new Uint8Array([0x01]) });
    await resume.delete(b);
    assert.equal(await resume.get(b), undefined);

    // Read at the next start: the bitfields, not the rest.
    const again = new ResumeRecords(store);
    assert.equal(again.verifiedPieces(a), undefined, 'nothing before load');
    await again.load();
    assert.deepEqual([again.verifiedPieces(a), again.have(a), again.verifiedPieces(b)], [3, new Uint8Array([0xe0]), undefined]);
    // A get waits for the saves given before it.
    void again.save(c, { have: new Uint8Array([0x0f]) });
    assert.deepEqual(await again.get(c), { have: new Uint8Array([0x0f]) });

    // A torrent removed while its save is on its way: nothing comes back after the removal.
    void resume.save(a, { have: new Uint8Array([0xff]) });
    await resume.forget([a]);
    await store.run('DELETE FROM resume WHERE info_hash = ?', [a]);
    await resume.settled();
    assert.equal(await resume.get(a), undefined);
    assert.equal(resume.verifiedPieces(a), undefined);
  });

  await t.test('resume records: a batch the Store refuses is written with the next one', async (t) => {
    const store = await open(t);
    const resume = new ResumeRecords(store);
    await resume.load();
    const a = 'a'.repeat(40);
    // File sizes that cannot be written (JSON has no BigInt): this save fails its batch, the good
    // one in it too, and both callers are told.
    const good = resume.save(a, { have: new Uint8Array([0x80]) });
    const bad = resume.save('b'.repeat(40), { have: new Uint8Array([1]), files: [{ length: 1n as unknown as number, mtimeMs: 1 }] });
    await assert.rejects(good);
    await assert.rejects(bad);
    assert.equal(await store.get('SELECT info_hash FROM resume WHERE info_hash = ?', [a]), undefined);
    await resume.delete('b'.repeat(40)); // the bad one given up; a's save goes with this batch
    assert.deepEqual(await resume.get(a), { have: new Uint8Array([0x80]) });
  });
}
