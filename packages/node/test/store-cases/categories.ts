// model/categories.ts on the Store: the view in memory follows what the Store took, case-blind
// order as before, the bound of 1000, and a removal that also uncategorises its torrents.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CategoryStore, MAX_CATEGORIES, UnknownCategory, readStoredCategories } from '../../src/model/categories.ts';
import type { Open } from '../store-engines.ts';

export async function categoryCases(t: TestContext, open: Open): Promise<void> {
  await t.test('categories (model/categories.ts): added, changed, removed; read back at the next start', async (t) => {
    const store = await open(t);
    const cats = new CategoryStore(store, await readStoredCategories(store));
    assert.equal(await cats.add({ name: 'tv', savePath: '/srv/tv' }), true);
    assert.equal(await cats.add({ name: 'tv', savePath: '/elsewhere' }), false, 'exists: its path stays');
    await cats.add({ name: 'Music', savePath: null });
    await cats.add({ name: 'apps', savePath: null });
    assert.deepEqual(cats.list().map((c) => c.name), ['apps', 'Music', 'tv']);
    assert.deepEqual(await cats.setSavePath('Music', '/srv/music'), { name: 'Music', savePath: '/srv/music' });
    await store.run("INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at, category) VALUES (?, 'magnet', ?, '/d', 'paused', 1, 'tv')", ['a'.repeat(40), 'a'.repeat(40)]);
    await cats.remove('tv');
    assert.equal((await store.get<{ category: string | null }>('SELECT category FROM torrents'))!.category, null);
    await assert.rejects(cats.remove('tv'), UnknownCategory);
    assert.throws(() => cats.require('tv'), UnknownCategory);
    const again = new CategoryStore(store, await readStoredCategories(store));
    assert.deepEqual(again.list(), [{ name: 'apps', savePath: null }, { name: 'Music', savePath: '/srv/music' }]);
    // Removed by another process: this view learns it at its next write.
    await store.run("DELETE FROM categories WHERE name = 'apps'");
    await assert.rejects(cats.setSavePath('apps', '/x'), UnknownCategory);
    assert.equal(cats.get('apps'), undefined);
  });

  await t.test(`categories (model/categories.ts): at most ${MAX_CATEGORIES}`, async (t) => {
    const store = await open(t);
    await store.run(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO categories (name, save_path, created_at) SELECT 'c' || i, NULL, i FROM n`,
      [MAX_CATEGORIES],
    );
    const cats = new CategoryStore(store, await readStoredCategories(store));
    assert.equal(cats.list().length, MAX_CATEGORIES);
    await assert.rejects(cats.add({ name: 'one more', savePath: null }), /1000 categories already/);
    assert.equal(cats.get('one more'), undefined);
  });
}
