// The compatible APIs' sessions (qBittorrent's SID cookie) in the state (issue 42: any member of a
// cluster serves everything, so a balancer needs no sticky sessions): a login on one member is a
// session on all. Only the SHA-256 of the cookie is kept, as for sign-in sessions. A session ends
// when idle past its API's timeout (qBittorrent: an hour); its idle clock is written at most once
// a minute, so a client polling every second costs one write a minute, not one a request.
// Each session records the credential it was opened with (the API token's generation, issue 65):
// a use answers it, for the caller to compare with the current one, and revoke() ends every
// session opened under another (a rotation) in one statement, for every member of a cluster.

import { createHash, randomBytes } from 'node:crypto';
import type { CompatDatabase } from './database.ts';

/** How stale last_seen may get before a use writes it again (the idle timeout's precision). */
export const TOUCH_EVERY_MS = 60_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class CompatSessionStore {
  readonly #store: CompatDatabase;

  constructor(store: CompatDatabase) {
    this.#store = store;
  }

  /** A new session of `api`, opened with `credential`; past `max` of them the least recently used
   *  go. Returns the cookie value. */
  async start(api: string, credential: string, idleMs: number, max: number, now = Date.now()): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.#store.transaction(async (tx) => {
      await tx.run('DELETE FROM compat_sessions WHERE api = ? AND last_seen <= ?', [api, now - idleMs]);
      const { n } = (await tx.get<{ n: number }>('SELECT count(*) AS n FROM compat_sessions WHERE api = ?', [api]))!;
      if (n >= max) {
        await tx.run('DELETE FROM compat_sessions WHERE token_hash IN (SELECT token_hash FROM compat_sessions WHERE api = ? ORDER BY last_seen LIMIT ?)', [api, n - max + 1]);
      }
      await tx.run('INSERT INTO compat_sessions (token_hash, api, credential, created_at, last_seen) VALUES (?, ?, ?, ?, ?)', [hashToken(token), api, credential, now, now]);
    });
    return token;
  }

  /** The credential a live session (not ended, not idle past idleMs) was opened with, else
   *  undefined; a use restarts its idle clock. */
  async use(api: string, token: string, idleMs: number, now = Date.now()): Promise<string | undefined> {
    const hash = hashToken(token);
    const row = await this.#store.get<{ last_seen: number; credential: string }>('SELECT last_seen, credential FROM compat_sessions WHERE token_hash = ? AND api = ?', [hash, api]);
    if (!row) return undefined;
    if (Number(row.last_seen) <= now - idleMs) {
      await this.#store.run('DELETE FROM compat_sessions WHERE token_hash = ?', [hash]);
      return undefined;
    }
    if (Number(row.last_seen) <= now - TOUCH_EVERY_MS) await this.#store.run('UPDATE compat_sessions SET last_seen = ? WHERE token_hash = ?', [now, hash]);
    return row.credential;
  }

  /** Ends every session of `api` not opened with `current` (those of a rotated token). */
  async revoke(api: string, current: string): Promise<number> {
    return (await this.#store.run('DELETE FROM compat_sessions WHERE api = ? AND credential <> ?', [api, current])).changes;
  }

  async end(token: string): Promise<void> {
    await this.#store.run('DELETE FROM compat_sessions WHERE token_hash = ?', [hashToken(token)]);
  }
}
