// model/settings.ts on the Store: the settings are read once into memory and changed only after the
// Store took the change; updates given together run one after the other, none lost; a stored value
// made nonsense by hand falls back to its default.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SettingsStore, defaultSettings, readStoredSettings } from '../../src/model/settings.ts';
import type { Open } from '../store-engines.ts';

export async function settingsCases(t: TestContext, open: Open): Promise<void> {
  await t.test('settings (model/settings.ts): kept in the Store, read back at the next start, updates in order', async (t) => {
    const store = await open(t);
    const state = { store, stateDir: '/nonexistent/state' };
    const defaults = defaultSettings('/srv/downloads');
    const settings = new SettingsStore(state, await readStoredSettings(store), defaults);
    const seen: string[][] = [];
    settings.onChange((_next, _prev, changed) => seen.push(changed));
    await Promise.all([settings.update({ downloadLimit: 1000 }), settings.update({ uploadLimit: 2000 }), settings.update({ downloadLimit: 3000 })]);
    assert.deepEqual(seen, [['downloadLimit'], ['uploadLimit'], ['downloadLimit']]);
    await assert.rejects(settings.update({ downloadLimit: -1 }), /downloadLimit/);
    assert.deepEqual([settings.current().downloadLimit, settings.current().uploadLimit], [3000, 2000]);
    await store.run('INSERT INTO settings (key, value) VALUES (?, ?)', ['maxActiveDownloads', '"many"']);
    const notes: string[] = [];
    const again = new SettingsStore(state, await readStoredSettings(store), defaults, (n) => notes.push(n));
    assert.deepEqual([again.get().downloadLimit, again.get().uploadLimit, again.get().maxActiveDownloads], [3000, 2000, defaults.maxActiveDownloads]);
    assert.match(notes.join('\n'), /setting maxActiveDownloads in the state DB is invalid/);
  });
}
