// Settings → Categories: the node's categories and the folder each saves into (GET/POST/PATCH/DELETE
// /api/categories). A torrent added with a category and no save path of its own goes to the
// category's folder; removing a category keeps its torrents' data (they lose the category).
import { useEffect, useState } from 'react';
import type { Category } from '../api/api.ts';
import { request } from '../api/api.ts';
import { nodeOptions } from '../api/node-options.ts';

const path = (name: string) => `/api/categories/${encodeURIComponent(name)}`;

export function CategoriesSection() {
  const [list, setList] = useState<Category[]>();
  const [error, setError] = useState<string>();
  const [name, setName] = useState('');
  const [savePath, setSavePath] = useState('');
  const [busy, setBusy] = useState(false);

  const reload = () => nodeOptions.categories().then(setList, (err: Error) => setError(err.message));
  useEffect(() => {
    void reload();
  }, []);

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      await reload();
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" data-testid="settings-categories">
      <h2>Categories</h2>
      <p className="muted small">A torrent added with a category and no folder of its own is saved in the category’s folder (empty: the download folder).</p>
      {list === undefined ? (
        <div className="muted">Loading…</div>
      ) : list.length === 0 ? (
        <p className="muted small">No categories yet.</p>
      ) : (
        <ul className="category-list">
          {list.map((c) => (
            <CategoryRow key={c.name} c={c} busy={busy} onSave={(p) => act(() => request('PATCH', path(c.name), { savePath: p.trim() === '' ? null : p.trim() }))} onRemove={() => act(() => request('DELETE', path(c.name)))} />
          ))}
        </ul>
      )}
      <form
        className="row gap wrap-row category-add"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!name.trim()) return setError('Name the category');
          if (await act(() => nodeOptions.addCategory(name.trim(), savePath.trim() || undefined))) {
            setName('');
            setSavePath('');
          }
        }}
      >
        <input className="input input-name" aria-label="New category’s name" placeholder="Name" value={name} onChange={(e) => setName(e.target.value)} data-testid="settings-category-name" />
        <input className="input mono grow" aria-label="New category’s folder" placeholder="Folder (optional)" value={savePath} onChange={(e) => setSavePath(e.target.value)} data-testid="settings-category-path" />
        <button type="submit" className="btn" disabled={busy} data-testid="settings-category-add">
          Add category
        </button>
      </form>
      {error && (
        <div className="alert alert-error" role="alert" data-testid="settings-category-error">
          {error}
        </div>
      )}
    </div>
  );
}

function CategoryRow({ c, busy, onSave, onRemove }: { c: Category; busy: boolean; onSave: (savePath: string) => Promise<boolean>; onRemove: () => Promise<boolean> }) {
  const [p, setP] = useState(c.savePath ?? '');
  useEffect(() => setP(c.savePath ?? ''), [c.savePath]);
  const changed = p.trim() !== (c.savePath ?? '');
  return (
    <li className="category-row" data-testid="settings-category-row" data-name={c.name}>
      <strong className="category-name">{c.name}</strong>
      <input className="input mono grow" aria-label={`Folder of ${c.name}`} placeholder="the download folder" value={p} onChange={(e) => setP(e.target.value)} data-testid="settings-category-row-path" />
      <button type="button" className="btn btn-small" disabled={busy || !changed} onClick={() => void onSave(p)} data-testid="settings-category-save">
        Save
      </button>
      <button type="button" className="btn btn-small btn-ghost" disabled={busy} onClick={() => void onRemove()} aria-label={`Remove the category ${c.name}`} data-testid="settings-category-remove">
        Remove
      </button>
    </li>
  );
}
