// WebUI sessions as qBittorrent keeps them: POST auth/login with the right password starts one and
// sets the `SID` cookie (HttpOnly, SameSite=Strict, path=/); a session unused for an hour ends; an
// address that fails to log in 5 times in a row is refused for an hour, counted where the sessions
// are kept (the node's state: by every member of a cluster together) (qBittorrent's defaults:
// web_ui_session_timeout 3600, web_ui_max_auth_fail_count 5, web_ui_ban_duration 3600).
// Sessions live where the node keeps them (SessionBackend: its state, shared by a cluster's
// members), else in memory, where a restart logs everyone out as it does in qBittorrent.
// A session also ends when the credential it was opened with is no longer the node's (the API
// token rotated, issue 65): every use compares the two, in memory, before anything else.
import { randomBytes } from 'node:crypto';
import type { QbSession } from './session-state.ts';
import type { SessionBackend } from '../ops.ts';

export const SESSION_TIMEOUT_S = 3600;
export const MAX_AUTH_FAILS = 5;
export const BAN_DURATION_S = 3600;
/** Enough for every WebUI tab and *arr instance; past it the least recently used session ends. */
export const MAX_SESSIONS = 256;
/** Addresses tracked for failed logins; the oldest entries go first past it. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface Failures {
  count: number;
  /** ms since the epoch until which logins from this address are refused; 0 = not banned. */
  bannedUntil: number;
}

/** Sessions in this process only: a restart logs everyone out, as it does in qBittorrent. */
export class MemorySessions implements SessionBackend {
  /** id → last use (ms) and credential; Map order = least recently used first, for eviction. */
  readonly #lastSeen = new Map<string, { seen: number; credential: string }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async start(credential: string): Promise<string> {
    const now = this.#now();
    for (const [id, s] of this.#lastSeen) if (now - s.seen > SESSION_TIMEOUT_S * 1000) this.#lastSeen.delete(id);
    while (this.#lastSeen.size >= MAX_SESSIONS) this.#lastSeen.delete(this.#lastSeen.keys().next().value as string);
    // 24 random bytes, as qBittorrent's generateSid, in URL-safe base64 so it needs no quoting.
    const id = randomBytes(24).toString('base64url');
    this.#lastSeen.set(id, { seen: now, credential });
    return id;
  }

  async use(id: string): Promise<string | undefined> {
    const s = this.#lastSeen.get(id);
    if (s === undefined) return undefined;
    this.#lastSeen.delete(id);
    const now = this.#now();
    if (now - s.seen > SESSION_TIMEOUT_S * 1000) return undefined;
    this.#lastSeen.set(id, { seen: now, credential: s.credential });
    return s.credential;
  }

  async end(id: string): Promise<void> {
    this.#lastSeen.delete(id);
  }
}

/** How long a session this process has seen live is taken as live without asking a shared
 *  backend again: a logout on another member is in force here within this. */
const RECHECK_MS = 2000;
/** How long a session confirmed live is trusted while the shared backend does not answer (as
 *  the node's own sign-in sessions are: http/src/auth/gate.ts). */
const TRUST_WHILE_AWAY_MS = 10 * 60_000;
/** What a session holds here (two sync/maindata answers: every torrent's map; its peer lists) is
 *  let go once it has not been used for this long. A client that logs in again leaves its old
 *  session behind unused (Sonarr, a restarted GUI: the soak's pollers every ~10 s); each kept its
 *  answers until MAX_SESSIONS newer ones pushed it out (issue 63's heap growth). A later use finds
 *  it in the backend as before, and sync/maindata answers it a full update (a rid it does not know). */
export const LOCAL_IDLE_MS = 5 * 60_000;
/** A session unused this long lets go of its sync/maindata answers sooner (its next poll gets a
 *  full update, as for any rid it does not know): they are the bulk of what it holds (two maps of
 *  every torrent; at 1,000 torrents the pollers' abandoned sessions held 1.6-3.1 MB in the cluster
 *  soak of 30 Nov). Two minutes, so a WebUI tab in the background, whose timers a browser runs once
 *  a minute, still gets its diffs. */
export const SYNC_IDLE_MS = 2 * 60_000;

export class SessionStore {
  readonly #backend: SessionBackend;
  /** A backend other processes share (not this process's memory): worth a short local cache. */
  readonly #shared: boolean;
  /** What each session holds here (sync/maindata's snapshots, searches): this process's own; a
   *  session first seen here (logged in through another member) starts with none, and
   *  sync/maindata answers it with a full update, as for any rid it does not know. */
  readonly #local = new Map<string, { session: QbSession; checkedAt: number }>();
  readonly #failures = new Map<string, Failures>();
  readonly #now: () => number;
  /** The credential a login is checked against now (CompatOps.credential). */
  readonly #credential: () => string;

  constructor(now: () => number = Date.now, backend: SessionBackend = new MemorySessions(now), credential: () => string = () => '') {
    this.#now = now;
    this.#backend = backend;
    this.#shared = !(backend instanceof MemorySessions);
    this.#credential = credential;
  }

  /** The credential a login opens a session with, read when its password is checked: a rotation
   *  between the check and the session's start must not give the session the new one. */
  credential(): string {
    return this.#credential();
  }

  /** The live session a cookie names (its idle clock restarted), or undefined. */
  async get(id: string | undefined): Promise<QbSession | undefined> {
    if (!id) return undefined;
    const now = this.#now();
    const known = this.#local.get(id);
    if (known && known.session.credential !== this.#credential()) return this.#revoked(id);
    if (known && this.#shared && now - known.checkedAt < RECHECK_MS) {
      known.session.lastSeen = now;
      return known.session;
    }
    let credential: string | undefined;
    try {
      credential = await this.#backend.use(id);
    } catch (err) {
      // The node's state does not answer (a database restarting): a session it confirmed a
      // little while ago stays good meanwhile, so reads still work; any other is refused.
      if (known && now - known.checkedAt < TRUST_WHILE_AWAY_MS) {
        known.session.lastSeen = now;
        return known.session;
      }
      throw err;
    }
    if (credential === undefined) {
      this.#local.delete(id);
      return undefined;
    }
    // Checked after the use, which may have restarted its idle clock: it ends here all the same.
    if (credential !== this.#credential()) return this.#revoked(id);
    return this.#keep(id, credential, now);
  }

  /** A session opened with `credential` (read by credential() when the password was checked). */
  async start(credential: string): Promise<QbSession> {
    return this.#keep(await this.#backend.start(credential), credential, this.#now());
  }

  /** A session whose credential is not the current one: it ends (once; its later uses find none). */
  async #revoked(id: string): Promise<undefined> {
    this.#local.delete(id);
    try {
      await this.#backend.end(id);
    } catch {
      // The state away: refused all the same, and the rotation's own revocation removes it there.
    }
    return undefined;
  }

  async end(id: string): Promise<void> {
    this.#local.delete(id);
    await this.#backend.end(id);
  }

  get size(): number {
    return this.#local.size;
  }

  #keep(id: string, credential: string, now: number): QbSession {
    // Least recently used first (a recheck within RECHECK_MS moves none: at most that out of order).
    for (const [old, e] of this.#local) {
      const idle = now - e.session.lastSeen;
      if (idle <= SYNC_IDLE_MS) break;
      if (idle > LOCAL_IDLE_MS) this.#local.delete(old);
      else e.session.sync = undefined;
    }
    let entry = this.#local.get(id);
    if (entry) this.#local.delete(id);
    else {
      while (this.#local.size >= MAX_SESSIONS) this.#local.delete(this.#local.keys().next().value as string);
      entry = { session: { id, credential, lastSeen: now }, checkedAt: now };
    }
    entry.session.lastSeen = now;
    entry.checkedAt = now;
    // Map order = least recently used first, for eviction.
    this.#local.set(id, entry);
    return entry.session;
  }

  /** Whether `address` is serving a ban for failed logins: counted where the backend keeps them
   *  (the node's state: every member of a cluster together), else by this process. */
  async isBanned(address: string): Promise<boolean> {
    if (this.#backend.isBanned) return this.#backend.isBanned(address);
    const f = this.#failures.get(address);
    if (!f || f.bannedUntil === 0) return false;
    if (this.#now() >= f.bannedUntil) {
      this.#failures.delete(address);
      return false;
    }
    return true;
  }

  async loginFailed(address: string): Promise<number> {
    if (this.#backend.loginFailed) return this.#backend.loginFailed(address);
    let f = this.#failures.get(address);
    if (!f) {
      if (this.#failures.size >= MAX_TRACKED_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value as string);
      f = { count: 0, bannedUntil: 0 };
      this.#failures.set(address, f);
    }
    f.count++;
    if (f.count >= MAX_AUTH_FAILS) f.bannedUntil = this.#now() + BAN_DURATION_S * 1000;
    return f.count;
  }

  async loginSucceeded(address: string): Promise<void> {
    if (this.#backend.loginSucceeded) return this.#backend.loginSucceeded(address);
    this.#failures.delete(address);
  }
}

/** The SID cookie's value from a Cookie header, if any. */
export function sidFromCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === 'SID') return part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

export function sessionCookie(id: string): string {
  return `SID=${id}; HttpOnly; SameSite=Strict; path=/`;
}

/** What qBittorrent sends on logout: the cookie, expired. */
export const EXPIRED_COOKIE = 'SID=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT';

/**
 * qBittorrent's CSRF rule (isCrossSiteRequest): when an Origin header is present (else a Referer),
 * its host and port must be the Host header's. Neither present = allowed (API clients send none).
 */
export function isCrossSite(headers: { host?: string; origin?: string; referer?: string }): boolean {
  const source = headers.origin || headers.referer;
  if (!source) return false;
  const target = headers.host;
  if (!target) return true;
  try {
    const from = new URL(source);
    const to = new URL(`http://${target}`);
    return hostPort(from) !== hostPort(to);
  } catch {
    return true;
  }
}

/** Host and explicit port, scheme left out as qBittorrent does (a TLS proxy in front changes it). */
function hostPort(u: URL): string {
  return `${u.hostname.toLowerCase()}:${u.port}`;
}
