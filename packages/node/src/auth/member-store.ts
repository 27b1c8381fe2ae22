// Who may use the node (members, one owner) and who is signed in (sessions), in the node's state
// (the Store: SQLite, or PostgreSQL shared by the members of a cluster).
// A member is named by a did:key or an Ethereum address; a session remembers both when the user
// proved both (a binding), so either name grants the membership. Cookie values are never stored,
// only their SHA-256, so a copy of the DB opens no session.
import { createHash, randomBytes } from 'node:crypto';
import { isAddress, isDid } from '@cascade/identity/syntax';
import type { Queryable, Store } from '@cascade/node-state/store';
import type { Member, Role } from '@cascade/shapes';

/**
 * What a member may do (docs/identity.md, "Roles"): a viewer reads (dashboards), a member uses the
 * node, an admin also manages members and viewers, the one owner also admins, settings and the token.
 * The roles and a member's record are @cascade/shapes' (GET /api/users sends them).
 */
export type { Member, Role };
/** Roles that can be given by adding someone (the owner is claimed or transferred, never added). */
export const MEMBER_ROLES: readonly Role[] = ['admin', 'member', 'viewer'];
/** Higher is stronger: a route's access level is met by its rank or above. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 1, member: 2, admin: 3, owner: 4 };
export type MemberKind = Member['kind'];

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

interface MemberRow extends Record<string, unknown> {
  id: string;
  role: Role;
  added_at: number;
  added_by: string | null;
}

export class AuthStore {
  readonly #store: Store;

  /** `db`: the node's state (a StateDB, or anything holding its Store). */
  constructor(db: { readonly store: Store }) {
    this.#store = db.store;
  }

  async members(): Promise<Member[]> {
    const rows = await this.#store.all<MemberRow>('SELECT * FROM members ORDER BY added_at');
    return rows.map(toMember).sort((a, b) => ROLE_RANK[b.role] - ROLE_RANK[a.role]);
  }

  async member(id: string): Promise<Member | undefined> {
    const m = memberId(id);
    const row = m && (await memberRow(this.#store, m.id));
    return row ? toMember(row) : undefined;
  }

  async owner(): Promise<Member | undefined> {
    const row = await ownerRow(this.#store);
    return row && toMember(row);
  }

  /** The strongest role any of these names holds. */
  async roleOf(...ids: (string | null | undefined)[]): Promise<Role | undefined> {
    let role: Role | undefined;
    for (const id of ids) {
      if (!id) continue;
      const r = (await this.#store.get<{ role: Role }>('SELECT role FROM members WHERE id = ?', [id.toLowerCase().startsWith('0x') ? id.toLowerCase() : id]))?.role;
      if (r !== undefined && (role === undefined || ROLE_RANK[r] > ROLE_RANK[role])) role = r;
    }
    return role;
  }

  /**
   * Adds a member with `role` (admin, member or viewer). An existing entry is returned unchanged
   * (the owner stays owner), unless `changeRole` says to give an existing non-owner the new role.
   */
  async addMember(id: string, role: Role, addedBy: string, changeRole = false): Promise<{ member: Member; existing: boolean }> {
    const m = memberId(id);
    if (!m) throw new Error('not a did:key or an Ethereum address');
    if (role === 'owner') throw new Error('the owner is claimed or transferred, not added');
    return this.#store.transaction(async (tx) => {
      const row = await memberRow(tx, m.id);
      if (row && changeRole && row.role !== 'owner' && row.role !== role) {
        await tx.run('UPDATE members SET role = ? WHERE id = ?', [role, m.id]);
        return { member: { ...toMember(row), role }, existing: true };
      }
      if (row) return { member: toMember(row), existing: true };
      await tx.run('INSERT INTO members (id, role, added_at, added_by) VALUES (?, ?, ?, ?)', [m.id, role, Date.now(), addedBy]);
      return { member: toMember((await memberRow(tx, m.id))!), existing: false };
    });
  }

  /** Makes `id` the owner if there is none yet (one transaction: two claims cannot both win). */
  async claimOwnership(id: string): Promise<boolean> {
    const m = memberId(id);
    if (!m) return false;
    return this.#store.transaction(async (tx) => {
      if (await ownerRow(tx)) return false;
      await tx.run('DELETE FROM members WHERE id = ?', [m.id]);
      await tx.run("INSERT INTO members (id, role, added_at, added_by) VALUES (?, 'owner', ?, 'claim')", [m.id, Date.now()]);
      return true;
    });
  }

  /**
   * Makes `id` the owner; the owner before it stays on as an admin (it can leave or be removed
   * after). Returns the new owner, or undefined when there is no owner to hand over from.
   */
  async transferOwnership(id: string, by: string): Promise<Member | undefined> {
    const m = memberId(id);
    if (!m) throw new Error('not a did:key or an Ethereum address');
    return this.#store.transaction(async (tx) => {
      const old = await ownerRow(tx);
      if (!old) return undefined;
      if (old.id === m.id) return toMember(old);
      await tx.run("UPDATE members SET role = 'admin' WHERE id = ?", [old.id]);
      await tx.run('DELETE FROM members WHERE id = ?', [m.id]);
      await tx.run("INSERT INTO members (id, role, added_at, added_by) VALUES (?, 'owner', ?, ?)", [m.id, Date.now(), by]);
      return toMember((await memberRow(tx, m.id))!);
    });
  }

  /** Recovery by whoever holds the machine: the owner is removed, so the node can be claimed again.
   *  Returns the removed owner's id, or undefined when there was none. */
  async resetOwner(): Promise<string | undefined> {
    return this.#store.transaction(async (tx) => {
      const old = await ownerRow(tx);
      if (old) await tx.run('DELETE FROM members WHERE id = ?', [old.id]);
      return old?.id;
    });
  }

  async removeMember(id: string): Promise<boolean> {
    const m = memberId(id);
    if (!m) return false;
    return (await this.#store.run('DELETE FROM members WHERE id = ?', [m.id])).changes > 0;
  }

  /** A new session; returns the cookie value. */
  async createSession(who: { did: string | null; address: string | null }, now = Date.now()): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.#store.transaction(async (tx) => {
      await tx.run('DELETE FROM sessions WHERE expires_at <= ?', [now]);
      const { n } = (await tx.get<{ n: number }>('SELECT count(*) AS n FROM sessions'))!;
      if (n >= MAX_SESSIONS) {
        await tx.run('DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions ORDER BY created_at LIMIT ?)', [n - MAX_SESSIONS + 1]);
      }
      await tx.run('INSERT INTO sessions (token_hash, did, address, created_at, expires_at) VALUES (?, ?, ?, ?, ?)', [
        hashToken(token), who.did, who.address?.toLowerCase() ?? null, now, now + SESSION_TTL_MS,
      ]);
    });
    return token;
  }

  async session(token: string, now = Date.now()): Promise<Session | undefined> {
    const row = await this.#store.get<{ did: string | null; address: string | null; created_at: number; expires_at: number }>(
      'SELECT * FROM sessions WHERE token_hash = ?',
      [hashToken(token)],
    );
    if (!row || row.expires_at <= now) return undefined;
    return { did: row.did, address: row.address, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async endSession(token: string): Promise<void> {
    await this.#store.run('DELETE FROM sessions WHERE token_hash = ?', [hashToken(token)]);
  }
}

function memberRow(q: Queryable, id: string): Promise<MemberRow | undefined> {
  return q.get<MemberRow>('SELECT * FROM members WHERE id = ?', [id]);
}

function ownerRow(q: Queryable): Promise<MemberRow | undefined> {
  return q.get<MemberRow>("SELECT * FROM members WHERE role = 'owner'");
}

function toMember(r: MemberRow): Member {
  return { id: r.id, kind: r.id.startsWith('did:') ? 'did' : 'address', role: r.role, addedAt: r.added_at, addedBy: r.added_by };
}
