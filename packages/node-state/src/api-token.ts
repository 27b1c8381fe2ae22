// The node's API token: a bearer credential for scripts and the CLI (`cascade token` prints it).
// Kept in <state-dir>/api-token with mode 0600, so whoever can read the state dir (the node's
// operator) holds it; made on first use and kept across restarts. A node whose state is in
// PostgreSQL (--database) keeps it in the state too (the `api_token` row), which wins over the
// file: nodes sharing the database take one token, and the file is its copy for the local verbs.
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { makeDirsSync } from '@cascade/engine/make-dirs';
import type { Store } from './store.ts';

export const API_TOKEN_FILE = 'api-token';
const TOKEN = /^[A-Za-z0-9_-]{32,128}$/;

export function apiTokenPath(stateDir: string): string {
  return join(stateDir, API_TOKEN_FILE);
}

/** The stored token, or a new one written (0600) if there is none or it is unreadable garbage. */
export function loadOrCreateApiToken(stateDir: string): string {
  const path = apiTokenPath(stateDir);
  try {
    const t = readFileSync(path, 'utf8').trim();
    if (TOKEN.test(t)) {
      // A token copied in by hand may be world-readable; it is a credential.
      chmodSync(path, 0o600);
      return t;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return writeNewToken(stateDir);
}

function writeNewToken(stateDir: string): string {
  return writeToken(stateDir, randomBytes(32).toString('base64url'));
}

function writeToken(stateDir: string, token: string): string {
  const path = apiTokenPath(stateDir);
  makeDirsSync(stateDir, 0o700);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, token + '\n', { mode: 0o600 });
  renameSync(tmp, path);
  return token;
}

/**
 * The token a running node checks, shared by its control endpoint, the HTTP gate and the compatible
 * APIs: rotate() writes a new one and every checker sees it at once, so the old one stops working
 * on the next request. Without a node, rotating is just writing a new file.
 */
export class ApiToken {
  readonly stateDir: string;
  #value: string;
  #generation: string;
  #store: Store | undefined;
  readonly #listeners: ((token: string) => void)[] = [];

  constructor(stateDir: string) {
    this.stateDir = stateDir;
    this.#value = loadOrCreateApiToken(stateDir);
    this.#generation = generationOf(this.#value);
  }

  get value(): string {
    return this.#value;
  }

  /**
   * Names this token without revealing it: what a session opened with it records (a qBittorrent
   * SID), so a use after a rotation finds it opened under another generation and refuses it. The
   * same on every member of a cluster (it is the token's), so a session checks out on any of them.
   */
  get generation(): string {
    return this.#generation;
  }

  matches(presented: string): boolean {
    return tokenEquals(presented, this.#value);
  }

  /** The state's token wins when the state is PostgreSQL; the file's is stored there when it has
   *  none yet (the first start on it, or after `db copy`). SQLite's state keeps none. */
  async useStore(store: Store): Promise<void> {
    if (store.dialect !== 'postgres') return;
    this.#store = store;
    const stored = await sharedToken(store, this.#value);
    if (stored !== this.#value) this.#set(writeToken(this.stateDir, stored));
  }

  /** Reads the state's token again (another cluster member rotated it, issue 42). */
  async reload(): Promise<void> {
    if (!this.#store) return;
    const row = await this.#store.get<{ token: string }>('SELECT token FROM api_token WHERE id = 1');
    if (row && row.token !== this.#value) this.#set(writeToken(this.stateDir, row.token));
  }

  /** A new token; the old one stops working at once. Resolves once stored. */
  async rotate(): Promise<string> {
    const fresh = randomBytes(32).toString('base64url');
    if (this.#store) await storeToken(this.#store, fresh);
    this.#set(writeToken(this.stateDir, fresh));
    return this.#value;
  }

  #set(token: string): void {
    this.#value = token;
    this.#generation = generationOf(token);
    for (const l of this.#listeners) l(this.#value);
  }

  /** Called once the token changed (rotated here, or by another member of the cluster: reload). */
  onRotate(listener: (token: string) => void): void {
    this.#listeners.push(listener);
  }
}

/** `cascade token --rotate` with no node running (and the state's copy, on PostgreSQL). */
export async function rotateApiToken(stateDir: string, store?: Store): Promise<string> {
  const token = new ApiToken(stateDir);
  if (store) await token.useStore(store);
  return token.rotate();
}

/** The token a node on this state uses (`cascade token --database`): the state's on PostgreSQL. */
export async function sharedApiToken(stateDir: string, store: Store): Promise<string> {
  const token = new ApiToken(stateDir);
  await token.useStore(store);
  return token.value;
}

/** The state's token, this one stored first if there is none. */
async function sharedToken(store: Store, mine: string): Promise<string> {
  await store.run('INSERT INTO api_token (id, token, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING', [mine, Date.now()]);
  const row = await store.get<{ token: string }>('SELECT token FROM api_token WHERE id = 1');
  return row?.token ?? mine;
}

async function storeToken(store: Store, token: string): Promise<void> {
  await store.run('INSERT INTO api_token (id, token, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET token = excluded.token, created_at = excluded.created_at', [token, Date.now()]);
}

function generationOf(token: string): string {
  return `token:${createHmac('sha256', token).update('cascade: api token generation').digest('base64url').slice(0, 22)}`;
}

/** Constant-time comparison of a presented token with the real one. */
export function tokenEquals(presented: string, token: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
