// Categories: named groups of torrents, each with an optional save path of its own (used for adds
// to that category that name no save path). Removing one leaves its torrents uncategorised.

import type { StateDB } from '../state/state-db.ts';
import { NodeError } from '../core/errors.ts';
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

export class CategoryStore {
  readonly #db: StateDB;

  constructor(db: StateDB) {
    this.#db = db;
  }

  list(): Category[] {
    const rows = this.#db.prepare('SELECT name, save_path FROM categories ORDER BY name COLLATE NOCASE, name').all() as {
      name: string;
      save_path: string | null;
    }[];
    return rows.map((r) => ({ name: r.name, savePath: r.save_path ?? null }));
  }

  get(name: string): Category | undefined {
    const r = this.#db.prepare('SELECT name, save_path FROM categories WHERE name = ?').get(name) as
      | { name: string; save_path: string | null }
      | undefined;
    return r && { name: r.name, savePath: r.save_path ?? null };
  }

  /** The category, or UnknownCategory (409) when there is none of that name. */
  require(name: string): Category {
    const c = this.get(name);
    if (!c) throw new UnknownCategory(name);
    return c;
  }

  /** Creates a category; false when it already existed (then its save path is left alone). */
  add(c: Category): boolean {
    return this.#db.transaction(() => {
      if (this.get(c.name)) return false;
      const n = (this.#db.prepare('SELECT count(*) AS n FROM categories').get() as { n: number }).n;
      if (n >= MAX_CATEGORIES) throw new NodeError('failed', `the node has ${MAX_CATEGORIES} categories already; remove some first`);
      this.#db.prepare('INSERT INTO categories (name, save_path, created_at) VALUES (?, ?, ?)').run(c.name, c.savePath, Date.now());
      return true;
    });
  }

  setSavePath(name: string, savePath: string | null): Category {
    this.require(name);
    this.#db.prepare('UPDATE categories SET save_path = ? WHERE name = ?').run(savePath, name);
    return { name, savePath };
  }

  /** Removes a category; its torrents keep their data where it is and lose the category. */
  remove(name: string): void {
    this.#db.transaction(() => {
      this.require(name);
      this.#db.prepare('UPDATE torrents SET category = NULL WHERE category = ?').run(name);
      this.#db.prepare('DELETE FROM categories WHERE name = ?').run(name);
    });
  }
}
