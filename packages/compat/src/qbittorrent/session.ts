// WebUI sessions as qBittorrent keeps them: POST auth/login with the right password starts one and
// sets the `SID` cookie (HttpOnly, SameSite=Strict, path=/); a session unused for an hour ends; an
// address that fails to log in 5 times in a row is refused for an hour (qBittorrent's defaults:
// web_ui_session_timeout 3600, web_ui_max_auth_fail_count 5, web_ui_ban_duration 3600).
// Everything lives in memory: a restart logs everyone out, as it does in qBittorrent.
import { randomBytes } from 'node:crypto';
import type { QbSession } from './session-state.ts';

export const SESSION_TIMEOUT_S = 3600;
export const MAX_AUTH_FAILS = 5;
export const BAN_DURATION_S = 3600;
/** Enough for every WebUI tab and *arr instance; past it the least recently used session ends. */
const MAX_SESSIONS = 256;
/** Addresses tracked for failed logins; the oldest entries go first past it. */
const MAX_TRACKED_ADDRESSES = 10_000;

interface Failures {
  count: number;
  /** ms since the epoch until which logins from this address are refused; 0 = not banned. */
  bannedUntil: number;
}

export class SessionStore {
  readonly #sessions = new Map<string, QbSession>();
  readonly #failures = new Map<string, Failures>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The live session a cookie names (its idle clock restarted), or undefined. */
  get(id: string | undefined): QbSession | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    const now = this.#now();
    if (now - s.lastSeen > SESSION_TIMEOUT_S * 1000) {
      this.#sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    // Map order = least recently used first, for eviction.
    this.#sessions.delete(id);
    this.#sessions.set(id, s);
    return s;
  }

  start(): QbSession {
    this.#dropExpired();
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    // 24 random bytes, as qBittorrent's generateSid, in URL-safe base64 so it needs no quoting.
    const s: QbSession = { id: randomBytes(24).toString('base64url'), lastSeen: this.#now() };
    this.#sessions.set(s.id, s);
    return s;
  }

  end(id: string): void {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Whether `address` is serving a ban for failed logins. */
  isBanned(address: string): boolean {
    const f = this.#failures.get(address);
    if (!f || f.bannedUntil === 0) return false;
    if (this.#now() >= f.bannedUntil) {
      this.#failures.delete(address);
      return false;
    }
    return true;
  }

  loginFailed(address: string): number {
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

  loginSucceeded(address: string): void {
    this.#failures.delete(address);
  }

  #dropExpired(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) if (now - s.lastSeen > SESSION_TIMEOUT_S * 1000) this.#sessions.delete(id);
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
