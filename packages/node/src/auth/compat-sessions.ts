// The compatible APIs' sessions (qBittorrent's SID cookie) in the state (issue 42: any member of a
// cluster serves everything, so a balancer needs no sticky sessions): a login on one member is a
// session on all. Only the SHA-256 of the cookie is kept, as for sign-in sessions. A session ends
// when idle past its API's timeout (qBittorrent: an hour); its idle clock is written at most once
// a minute, so a client polling every second costs one write a minute, not one a request.

import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../state/store.ts';

/** How stale last_seen may get before a use writes it again (the idle timeout's precision). */
export const TOUCH_EVERY_MS = 60_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class CompatSessionStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** A new session of `api`; past `max` of them the least recently used go. Returns the cookie value. */
  async start(api: string, idleMs: number, max: number, now = Date.now()): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.#store.transaction(async (tx) => {
      await tx.run('DELETE FROM compat_sessions WHERE api = ? AND last_seen <= ?', [api, now - idleMs]);
      const { n } = (await tx.get<{ n: number }>('SELECT count(*) AS n FROM compat_sessions WHERE api = ?', [api]))!;
      if (n >= max) {
        await tx.run('DELETE FROM compat_sessions WHERE token_hash IN (SELECT token_hash FROM compat_sessions WHERE api = ? ORDER BY last_seen LIMIT ?)', [api, n - max + 1]);
      }
      await tx.run('INSERT INTO compat_sessions (token_hash, api, created_at, last_seen) VALUES (?, ?, ?, ?)', [hashToken(token), api, now, now]);
    });
    return token;
  }

  /** Whether the session is live (not ended, not idle past idleMs); a use restarts its idle clock. */
  async use(api: string, token: string, idleMs: number, now = Date.now()): Promise<boolean> {
    const hash = hashToken(token);
    const row = await this.#store.get<{ last_seen: number }>('SELECT last_seen FROM compat_sessions WHERE token_hash = ? AND api = ?', [hash, api]);
    if (!row) return false;
    if (Number(row.last_seen) <= now - idleMs) {
      await this.#store.run('DELETE FROM compat_sessions WHERE token_hash = ?', [hash]);
      return false;
    }
    if (Number(row.last_seen) <= now - TOUCH_EVERY_MS) await this.#store.run('UPDATE compat_sessions SET last_seen = ? WHERE token_hash = ?', [now, hash]);
    return true;
  }

  async end(token: string): Promise<void> {
    await this.#store.run('DELETE FROM compat_sessions WHERE token_hash = ?', [hashToken(token)]);
  }
}
