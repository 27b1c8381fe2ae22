// The chat relay's store (chat-store.ts) on its own SQLite file (<stateDir>/chat.db), as before:
// WAL, one connection. SQLite answers synchronously, so each method runs whole before any other
// (no statement of another request slips between a count and its insert); a method of several
// writes is one transaction. The statements are chat-sql.ts's, shared with postgres-chat-store.ts.

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChatStore, MemberRow, NewEnvelope, RoomRow, StoredBody } from './chat-store.ts';
import { chatStatements } from './chat-sql.ts';

/** The schema (created when missing: files of every earlier version have these tables). */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS envelopes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  sender TEXT NOT NULL,
  recipient TEXT NOT NULL,
  ts INTEGER NOT NULL,
  stored INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS envelopes_recipient ON envelopes(recipient, seq);
CREATE INDEX IF NOT EXISTS envelopes_sender ON envelopes(sender, seq);
CREATE TABLE IF NOT EXISTS profiles (did TEXT PRIMARY KEY, ts INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, charter TEXT, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS members (
  room TEXT NOT NULL, did TEXT NOT NULL, role TEXT NOT NULL, invitation TEXT, joined_seq INTEGER NOT NULL, joined INTEGER NOT NULL,
  PRIMARY KEY (room, did)
);
CREATE INDEX IF NOT EXISTS members_did ON members(did);
CREATE TABLE IF NOT EXISTS invitations (room TEXT NOT NULL, invitee TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (room, invitee));
`;

const SQL = chatStatements({ envelopes: 'envelopes', profiles: 'profiles', rooms: 'rooms', members: 'members', invitations: 'invitations' });

export class SqliteChatStore implements ChatStore {
  readonly #db: DatabaseSync;
  readonly #q: Record<keyof typeof SQL, StatementSync>;

  /** Opens (creating when missing) the file; ':memory:' for none. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
    this.#db.exec(SCHEMA);
    this.#q = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, this.#db.prepare(sql)])) as Record<keyof typeof SQL, StatementSync>;
  }

  async envelope(id: string): Promise<{ seq: number; sender: string; body: string } | undefined> {
    return this.#q.envById.get(id) as { seq: number; sender: string; body: string } | undefined;
  }

  async addEnvelopes(envs: readonly NewEnvelope[]): Promise<number[]> {
    return this.#transaction(() =>
      envs.map((e) => Number((this.#q.insertEnv.get(e.id, e.kind, e.sender, e.recipient, e.ts, e.stored, e.body) as { seq: number }).seq)),
    );
  }

  async envelopesFor(did: string, since: number, limit: number): Promise<StoredBody[]> {
    return this.#q.sync.all(since, did, did, did, limit) as unknown as StoredBody[];
  }

  async prune(before: number): Promise<{ envelopes: number; profiles: number }> {
    return this.#transaction(() => ({ envelopes: Number(this.#q.pruneEnvelopes.run(before).changes), profiles: Number(this.#q.pruneProfiles.run(before).changes) }));
  }

  async profile(did: string): Promise<string | undefined> {
    return (this.#q.profile.get(did) as { body: string } | undefined)?.body;
  }

  async putProfile(did: string, ts: number, body: string): Promise<void> {
    this.#q.putProfile.run(did, ts, body);
  }

  async room(id: string): Promise<RoomRow | undefined> {
    return this.#q.room.get(id) as RoomRow | undefined;
  }

  async createRoom(r: RoomRow, created: number): Promise<boolean> {
    return Number(this.#q.insertRoom.run(r.id, r.kind, r.name, r.charter, created).changes) > 0;
  }

  async directory(): Promise<{ id: string; name: string; members: number }[]> {
    return (this.#q.directory.all() as { id: string; name: string; n: number }[]).map((r) => ({ id: r.id, name: r.name, members: Number(r.n) }));
  }

  async members(room: string): Promise<MemberRow[]> {
    return this.#q.members.all(room) as unknown as MemberRow[];
  }

  async isMember(room: string, did: string): Promise<boolean> {
    return this.#q.isMember.get(room, did) !== undefined;
  }

  async addMember(room: string, m: MemberRow, joined: number, max: number): Promise<'added' | 'full'> {
    return this.#transaction(() => {
      if (Number((this.#q.memberCount.get(room) as { n: number }).n) >= max) return 'full';
      const after = Number((this.#q.maxSeq.get() as { s: number }).s);
      this.#q.insertMember.run(room, m.did, m.role, m.invitation, after, joined);
      return 'added';
    });
  }

  async removeMember(room: string, did: string): Promise<void> {
    this.#q.deleteMember.run(room, did);
  }

  async roomsOf(did: string): Promise<string[]> {
    return (this.#q.roomsOf.all(did) as { room: string }[]).map((r) => r.room);
  }

  async putInvitation(room: string, invitee: string, body: string): Promise<void> {
    this.#q.putInvitation.run(room, invitee, body);
  }

  async invitation(room: string, invitee: string): Promise<string | undefined> {
    return (this.#q.invitation.get(room, invitee) as { body: string } | undefined)?.body;
  }

  async invitationsOf(did: string): Promise<{ invitation: string; charter: string }[]> {
    return (this.#q.invitationsOf.all(did) as { inv: string; charter: string }[]).map((r) => ({ invitation: r.inv, charter: r.charter }));
  }

  async removeInvitation(room: string, invitee: string): Promise<void> {
    this.#q.deleteInvitation.run(room, invitee);
  }

  async directPartners(did: string, limit: number): Promise<string[]> {
    return (this.#q.dmPartners.all(did, did, did, limit) as { other: string }[]).map((r) => r.other);
  }

  async groupPeers(did: string, limit: number): Promise<string[]> {
    return (this.#q.groupPeers.all(did, did, limit) as { other: string }[]).map((r) => r.other);
  }

  async close(): Promise<void> {
    try {
      this.#db.close();
    } catch {
      /* already closed */
    }
  }

  /** fn's statements as one unit (fn is synchronous: nothing else runs in between). */
  #transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN');
    try {
      const result = fn();
      this.#db.exec('COMMIT');
      return result;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }
}
