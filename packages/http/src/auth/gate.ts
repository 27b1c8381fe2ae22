// Who is asking, and may they? Every request to the node's HTTP API and live feed passes here:
//   - the Host must be one the node serves (origin.ts: no DNS rebinding);
//   - the caller is the API token's holder (Authorization: Bearer, the operator: owner rights), a
//     signed-in user (session cookie; owner, member or visitor by the members table) or nobody;
//   - a cookie alone never authorises a state change: it must come with the page's own Origin,
//     and a cookie request that the browser marks as cross-site or same-site (another port of the
//     same host) is refused (Fetch Metadata), so other local pages cannot ride on a session.
import type { IncomingMessage } from 'node:http';
import { ROLE_RANK, type AuthStore } from '@cascade/node';
import { hostAllowed, originAllowed } from './origin.ts';
import type { CallerRole } from '@cascade/shapes';

export const SESSION_COOKIE = 'cascade_session';

/** What a route requires: nothing, any signed-in user, or a role at least this strong (viewer <
 *  member < admin < owner; docs/identity.md has the table). */
export type Access = 'public' | 'signed-in' | 'viewer' | 'member' | 'admin' | 'owner';

/** What the gate checks a presented Bearer token against (the node's ApiToken: rotatable). */
export interface TokenCheck {
  matches(presented: string): boolean;
}

export interface Caller {
  via: 'token' | 'session' | null;
  did: string | null;
  address: string | null;
  role: CallerRole | null;
  /** The session cookie's value, when signed in through one (for sign-out). */
  session?: string;
}

export const NOBODY: Caller = { via: null, did: null, address: null, role: null };

export interface Refusal {
  status: 400 | 401 | 403;
  message: string;
}

type Req = Pick<IncomingMessage, 'headers' | 'method'>;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** How long a session the store confirmed is taken on trust while the database is away. */
const KNOWN_SESSION_MS = 10 * 60_000;
const KNOWN_SESSIONS = 10_000;

export class Gate {
  readonly #store: AuthStore;
  readonly #token: TokenCheck;
  readonly #allowedOrigins: readonly string[];
  readonly #allowedHosts: readonly string[];

  constructor(store: AuthStore, token: TokenCheck, opts: { allowedOrigins?: readonly string[]; allowedHosts?: readonly string[] } = {}) {
    this.#store = store;
    this.#token = token;
    this.#allowedOrigins = opts.allowedOrigins ?? [];
    this.#allowedHosts = opts.allowedHosts ?? [];
  }

  /** The caller, or a refusal for a bad token (a wrong token is never read as "nobody"). */
  async caller(req: Req): Promise<Caller | Refusal> {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer ([^\s]+)$/i.exec(auth);
      if (!m || !this.#token.matches(m[1]!)) return { status: 401, message: 'the API token is not valid (see `cascade token`)' };
      return { via: 'token', did: null, address: null, role: 'owner' };
    }
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie === undefined) return NOBODY;
    try {
      const s = await this.#store.session(cookie);
      if (!s) {
        this.#known.delete(cookie);
        return NOBODY;
      }
      const caller: Caller = { via: 'session', did: s.did, address: s.address, role: (await this.#store.roleOf(s.did, s.address)) ?? 'visitor', session: cookie };
      this.#remember(cookie, caller);
      return caller;
    } catch (err) {
      // The database away (issue 42 item 6): a session it confirmed a moment ago stays good for
      // reads, which the node answers from its views; writes fail on the database anyway (503).
      const known = (err as { kind?: unknown }).kind === 'unavailable' ? this.#known.get(cookie) : undefined;
      if (known && Date.now() - known.at < KNOWN_SESSION_MS) return known.caller;
      throw err;
    }
  }

  /** Sessions the store confirmed lately, newest last (bounded: the oldest go first). */
  readonly #known = new Map<string, { caller: Caller; at: number }>();

  /** Membership changed: a session is read again before it is trusted while the database is away,
   *  so a member removed or demoted is not taken on its old role meanwhile. */
  forget(): void {
    this.#known.clear();
  }

  #remember(cookie: string, caller: Caller): void {
    this.#known.delete(cookie);
    this.#known.set(cookie, { caller, at: Date.now() });
    if (this.#known.size > KNOWN_SESSIONS) this.#known.delete(this.#known.keys().next().value!);
  }

  /** Refuses a Host the node does not serve (DNS rebinding); undefined when fine. */
  checkHost(req: Pick<IncomingMessage, 'headers'>): Refusal | undefined {
    if (hostAllowed(req.headers.host, this.#allowedHosts)) return undefined;
    return { status: 403, message: `this node does not serve the host ${JSON.stringify(req.headers.host)} (start it with --allowed-host to add one)` };
  }

  /** Checks a request against its route's access level; returns the caller or why it is refused. */
  async admit(req: Req, access: Access): Promise<Caller | Refusal> {
    const badHost = this.checkHost(req);
    if (badHost) return badHost;
    const unsafe = !SAFE_METHODS.has(req.method ?? 'GET');
    if (unsafe && !originAllowed(req, this.#allowedOrigins)) return { status: 403, message: `requests from ${req.headers.origin} are not allowed` };
    const caller = await this.caller(req);
    if ('status' in caller) return caller;
    if (caller.via === 'session' && access !== 'public') {
      const origin = req.headers.origin;
      const knownOrigin = origin !== undefined && this.#allowedOrigins.includes(origin);
      if (unsafe && origin === undefined) return { status: 403, message: 'a state-changing request signed in by cookie must carry its Origin' };
      const site = req.headers['sec-fetch-site'];
      if ((site === 'cross-site' || site === 'same-site') && !knownOrigin) return { status: 403, message: 'requests from other sites are not allowed' };
    }
    return allows(caller, access) ?? caller;
  }
}

/** undefined when `caller` may use a route of `access`, else the refusal. */
export function allows(caller: Caller, access: Access): Refusal | undefined {
  if (access === 'public') return undefined;
  if (caller.role === null) return { status: 401, message: 'sign in first (POST /api/auth/challenge), or send the node’s API token as a Bearer token' };
  if (access === 'signed-in') return undefined;
  const rank = caller.role === 'visitor' ? 0 : ROLE_RANK[caller.role];
  if (rank >= ROLE_RANK[access]) return undefined;
  return { status: 403, message: refusal(access, caller.role) };
}

function refusal(access: Exclude<Access, 'public' | 'signed-in'>, role: CallerRole): string {
  if (access === 'owner') return 'only the node’s owner may do this';
  if (access === 'admin') return 'only the node’s owner and admins may do this';
  if (role === 'viewer') return 'a viewer may only read: ask the owner or an admin to make you a member';
  return 'only the node’s owner and members may do this: ask the owner to add you (cascade users add <your did>)';
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{16,128}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}
