// Categories: named groups of torrents, each with an optional save path of its own (used for adds
// to that category that name no save path). Removing one leaves its torrents uncategorised.
// The Store is the truth; CategoryStore keeps a view of it in memory (read before the model is
// made, changed after the Store took a change), because adds, patches and the compatible APIs ask
// about categories synchronously.

import { NodeError } from '@cascade/node-state/errors';
import type { Queryable, Store } from '@cascade/node-state/store';
import { shortName } from './validate.ts';
import type { Category } from '@cascade/shapes';

export type { Category };

export const MAX_CATEGORIES = 1000;

/** A category name as given by a user: trimmed, 1-64 characters, no control characters or commas. */
export function categoryName(field: string, v: unknown): string {
  return shortName(field, v, { forbid: /,/, why: 'must not contain a comma' });
}

export class UnknownCategory extends NodeError {
  constructor(name: string) {
    // Not a usage error: the name is well formed, the node just has no such category (HTTP 409).
    super('conflict', `no category "${name}"; create it first (POST /api/categories, cascade category add)`);
    this.name = 'UnknownCategory';
  }
}

export type CategoryRow = { name: string; save_path: string | null };

/** The categories as the Store holds them, read before the model is made. */
export type StoredCategories = readonly CategoryRow[];

export function readStoredCategories(store: Store): Promise<StoredCategories> {
  return store.all<CategoryRow>('SELECT name, save_path FROM categories');
}

const view = (r: CategoryRow): Category => ({ name: r.name, savePath: r.save_path ?? null });

/** SQLite's old order (name COLLATE NOCASE, then name): ASCII letters folded, then UTF-8 bytes. */
function byName(a: Category, b: Category): number {
  const fold = (s: string) => Buffer.from(s.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  return Buffer.compare(fold(a.name), fold(b.name)) || Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

export class CategoryStore {
  readonly #store: Store;
  readonly #byName = new Map<string, Category>();

  constructor(store: Store, rows: StoredCategories) {
    this.#store = store;
    for (const r of rows) this.#byName.set(r.name, view(r));
  }

  list(): Category[] {
    return [...this.#byName.values()].map((c) => ({ ...c })).sort(byName);
  }

  get(name: string): Category | undefined {
    const c = this.#byName.get(name);
    return c && { ...c };
  }

  /** The category, or UnknownCategory (409) when there is none of that name. */
  require(name: string): Category {
    const c = this.get(name);
    if (!c) throw new UnknownCategory(name);
    return c;
  }

  /** Creates a category; false when it already existed (then its save path is left alone). */
  async add(c: Category): Promise<boolean> {
    const made = await this.#store.transaction((tx) => this.#ensure(tx, c));
    if (made === 'full') throw new NodeError('failed', `the node has ${MAX_CATEGORIES} categories already; remove some first`);
    this.remember(made.row);
    return made.made;
  }

  /**
   * Makes category `name` (no save path of its own) in the caller's transaction unless it exists:
   * an add that names a new category makes it with the torrent's row, all or nothing. Its row as
   * stored, for `remember` once the transaction committed; 'full' when the node has
   * MAX_CATEGORIES already (the add goes on without it).
   */
  async ensureIn(tx: Queryable, name: string): Promise<CategoryRow | 'full'> {
    const made = await this.#ensure(tx, { name, savePath: null });
    return made === 'full' ? made : made.row;
  }

  /** A category the Store holds (committed), into the view. What the Store holds wins: another
   *  process may have made it meanwhile, with its own save path. */
  remember(row: CategoryRow): void {
    this.#byName.set(row.name, view(row));
  }

  async #ensure(tx: Queryable, c: Category): Promise<{ row: CategoryRow; made: boolean } | 'full'> {
    const row = await tx.get<CategoryRow>('SELECT name, save_path FROM categories WHERE name = ?', [c.name]);
    if (row) return { row, made: false };
    const { n } = (await tx.get<{ n: number }>('SELECT count(*) AS n FROM categories'))!;
    if (n >= MAX_CATEGORIES) return 'full';
    await tx.run('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)', [c.name, c.savePath, Date.now()]);
    return { row: { name: c.name, save_path: c.savePath }, made: true };
  }

  async setSavePath(name: string, savePath: string | null): Promise<Category> {
    this.require(name);
    if ((await this.#store.run('UPDATE categories SET save_path = ? WHERE name = ?', [savePath, name])).changes === 0) return this.#gone(name);
    this.#byName.set(name, { name, savePath });
    return { name, savePath };
  }

  /** Removes a category; its torrents keep their data where it is and lose the category. */
  async remove(name: string): Promise<void> {
    this.require(name);
    const removed = await this.#store.transaction(async (tx) => {
      await tx.run('UPDATE torrents SET category = NULL WHERE category = ?', [name]);
      return (await tx.run('DELETE FROM categories WHERE name = ?', [name])).changes > 0;
    });
    if (!removed) this.#gone(name);
    this.#byName.delete(name);
  }

  /** Reads the categories again (another cluster member changed them, issue 42); whether any changed. */
  async reload(): Promise<boolean> {
    const rows = await readStoredCategories(this.#store);
    const before = JSON.stringify(this.list());
    this.#byName.clear();
    for (const r of rows) this.#byName.set(r.name, view(r));
    return JSON.stringify(this.list()) !== before;
  }

  /** Known here but no longer in the Store (removed by another process): forgotten, and a 409. */
  #gone(name: string): never {
    this.#byName.delete(name);
    throw new UnknownCategory(name);
  }
}
