// Who may use the node (members, one owner) and who is signed in (sessions), in the state DB.
// A member is named by a did:key or an Ethereum address; a session remembers both when the user
// proved both (a binding), so either name grants the membership. Cookie values are never stored,
// only their SHA-256, so a copy of the DB opens no session.
import { createHash, randomBytes } from 'node:crypto';
import { isAddress, isDid } from '@cascade/identity';
import type { StateDB } from '../state/state-db.ts';

/**
 * What a member may do (docs/identity.md, "Roles"): a viewer reads (dashboards), a member uses the
 * node, an admin also manages members and viewers, the one owner also admins, settings and the token.
 */
export type Role = 'owner' | 'admin' | 'member' | 'viewer';
/** Roles that can be given by adding someone (the owner is claimed or transferred, never added). */
export const MEMBER_ROLES: readonly Role[] = ['admin', 'member', 'viewer'];
/** Higher is stronger: a route's access level is met by its rank or above. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 1, member: 2, admin: 3, owner: 4 };
export type MemberKind = 'did' | 'address';

export interface Member {
  id: string;
  kind: MemberKind;
  role: Role;
  addedAt: number;
  addedBy: string | null;
}

export interface Session {
  did: string | null;
  address: string | null;
  createdAt: number;
  expiresAt: number;
}

/** Sessions last 30 days; signing out ends one at once. */
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
/** Anyone can make keys and sign in as a visitor: past this many sessions the oldest go. */
export const MAX_SESSIONS = 50_000;

/** A member id in its stored form (addresses lowercase), or undefined if it is neither a did:key nor an address. */
export function memberId(s: unknown): { id: string; kind: MemberKind } | undefined {
  if (typeof s !== 'string') return undefined;
  const v = s.trim();
  if (v.startsWith('did:')) return isDid(v) ? { id: v, kind: 'did' } : undefined;
  const lower = v.toLowerCase();
  return isAddress(lower) ? { id: lower, kind: 'address' } : undefined;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

interface MemberRow {
  id: string;
  role: Role;
  added_at: number;
  added_by: string | null;
}

export class AuthStore {
  readonly #db: StateDB;

  constructor(db: StateDB) {
    this.#db = db;
  }

  members(): Member[] {
    const rows = this.#db.prepare('SELECT * FROM members ORDER BY added_at').all() as unknown as MemberRow[];
    return rows.map(toMember).sort((a, b) => ROLE_RANK[b.role] - ROLE_RANK[a.role]);
  }

  member(id: string): Member | undefined {
    const m = memberId(id);
    const row = m && (this.#db.prepare('SELECT * FROM members WHERE id = ?').get(m.id) as unknown as MemberRow | undefined);
    return row ? toMember(row) : undefined;
  }

  owner(): Member | undefined {
    const row = this.#db.prepare("SELECT * FROM members WHERE role = 'owner'").get() as unknown as MemberRow | undefined;
    return row && toMember(row);
  }

  /** The strongest role any of these names holds. */
  roleOf(...ids: (string | null | undefined)[]): Role | undefined {
    let role: Role | undefined;
    const q = this.#db.prepare('SELECT role FROM members WHERE id = ?');
    for (const id of ids) {
      if (!id) continue;
      const r = (q.get(id.toLowerCase().startsWith('0x') ? id.toLowerCase() : id) as { role: Role } | undefined)?.role;
      if (r !== undefined && (role === undefined || ROLE_RANK[r] > ROLE_RANK[role])) role = r;
    }
    return role;
  }

  /**
   * Adds a member with `role` (admin, member or viewer). An existing entry is returned unchanged
   * (the owner stays owner), unless `changeRole` says to give an existing non-owner the new role.
   */
  addMember(id: string, role: Role, addedBy: string, changeRole = false): { member: Member; existing: boolean } {
    const m = memberId(id);
    if (!m) throw new Error('not a did:key or an Ethereum address');
    if (role === 'owner') throw new Error('the owner is claimed or transferred, not added');
    return this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT * FROM members WHERE id = ?').get(m.id) as unknown as MemberRow | undefined;
      if (row && changeRole && row.role !== 'owner' && row.role !== role) {
        this.#db.prepare('UPDATE members SET role = ? WHERE id = ?').run(role, m.id);
        return { member: { ...toMember(row), role }, existing: true };
      }
      if (row) return { member: toMember(row), existing: true };
      this.#db.prepare('INSERT INTO members (id, role, added_at, added_by) VALUES (?, ?, ?, ?)').run(m.id, role, Date.now(), addedBy);
      return { member: toMember(this.#db.prepare('SELECT * FROM members WHERE id = ?').get(m.id) as unknown as MemberRow), existing: false };
    });
  }

  /** Makes `id` the owner if there is none yet (one transaction: two claims cannot both win). */
  claimOwnership(id: string): boolean {
    const m = memberId(id);
    if (!m) return false;
    return this.#db.transaction(() => {
      if (this.#db.prepare("SELECT 1 FROM members WHERE role = 'owner'").get()) return false;
      this.#db.prepare('DELETE FROM members WHERE id = ?').run(m.id);
      this.#db.prepare("INSERT INTO members (id, role, added_at, added_by) VALUES (?, 'owner', ?, 'claim')").run(m.id, Date.now());
      return true;
    });
  }

  /**
   * Makes `id` the owner; the owner before it stays on as an admin (it can leave or be removed
   * after). Returns the new owner, or undefined when there is no owner to hand over from.
   */
  transferOwnership(id: string, by: string): Member | undefined {
    const m = memberId(id);
    if (!m) throw new Error('not a did:key or an Ethereum address');
    return this.#db.transaction(() => {
      const old = this.#db.prepare("SELECT * FROM members WHERE role = 'owner'").get() as unknown as MemberRow | undefined;
      if (!old) return undefined;
      if (old.id === m.id) return toMember(old);
      this.#db.prepare("UPDATE members SET role = 'admin' WHERE id = ?").run(old.id);
      this.#db.prepare('DELETE FROM members WHERE id = ?').run(m.id);
      this.#db.prepare("INSERT INTO members (id, role, added_at, added_by) VALUES (?, 'owner', ?, ?)").run(m.id, Date.now(), by);
      return toMember(this.#db.prepare('SELECT * FROM members WHERE id = ?').get(m.id) as unknown as MemberRow);
    });
  }

  /** Recovery by whoever holds the machine: the owner is removed, so the node can be claimed again.
   *  Returns the removed owner's id, or undefined when there was none. */
  resetOwner(): string | undefined {
    return this.#db.transaction(() => {
      const old = this.#db.prepare("SELECT id FROM members WHERE role = 'owner'").get() as { id: string } | undefined;
      if (old) this.#db.prepare('DELETE FROM members WHERE id = ?').run(old.id);
      return old?.id;
    });
  }

  removeMember(id: string): boolean {
    const m = memberId(id);
    if (!m) return false;
    return Number(this.#db.prepare('DELETE FROM members WHERE id = ?').run(m.id).changes) > 0;
  }

  /** A new session; returns the cookie value. */
  createSession(who: { did: string | null; address: string | null }, now = Date.now()): string {
    const token = randomBytes(32).toString('base64url');
    this.#db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
    const { n } = this.#db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number };
    if (n >= MAX_SESSIONS) {
      this.#db.prepare('DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions ORDER BY created_at LIMIT ?)').run(n - MAX_SESSIONS + 1);
    }
    this.#db
      .prepare('INSERT INTO sessions (token_hash, did, address, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(hashToken(token), who.did, who.address?.toLowerCase() ?? null, now, now + SESSION_TTL_MS);
    return token;
  }

  session(token: string, now = Date.now()): Session | undefined {
    const row = this.#db.prepare('SELECT * FROM sessions WHERE token_hash = ?').get(hashToken(token)) as
      | { did: string | null; address: string | null; created_at: number; expires_at: number }
      | undefined;
    if (!row || row.expires_at <= now) return undefined;
    return { did: row.did, address: row.address, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  endSession(token: string): void {
    this.#db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(hashToken(token));
  }
}

function toMember(r: MemberRow): Member {
  return { id: r.id, kind: r.id.startsWith('did:') ? 'did' : 'address', role: r.role, addedAt: r.added_at, addedBy: r.added_by };
}
