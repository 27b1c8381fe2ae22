// What the /chat relay keeps (envelopes, signed profiles, rooms, members, invitations), behind one
// asynchronous interface: its own SQLite file today (sqlite-chat-store.ts), PostgreSQL's shape
// (issue 42: every member of a cluster relays the same chat) without changing the relay. Writes
// that must land together (a batch of envelopes; a member counted, placed after the last envelope
// and added) are one method each: one transaction in the store, not a sequence the relay runs.
// Bodies are the JSON the relay checked (envelopes, profiles, charters, invitations): ciphertext
// and metadata only, as before.

export interface StoredBody {
  seq: number;
  body: string;
}

export interface RoomRow {
  id: string;
  kind: 'public' | 'torrent' | 'private';
  name: string;
  charter: string | null;
}

export interface MemberRow {
  did: string;
  role: 'admin' | 'member';
  invitation: string | null;
}

export interface NewEnvelope {
  id: string;
  kind: string;
  sender: string;
  recipient: string;
  ts: number;
  stored: number;
  body: string;
}

export interface ChatStore {
  /** An envelope already stored under this id (a retry, or a replay). */
  envelope(id: string): Promise<{ seq: number; sender: string; body: string } | undefined>;
  /** Stores envelopes in one transaction, all or none; their sequence numbers, in order. */
  addEnvelopes(envs: readonly NewEnvelope[]): Promise<number[]>;
  /** Envelopes after `since` that `did` may read (its direct messages and sender keys, its rooms'
   *  messages since it joined), oldest first, at most `limit`. */
  envelopesFor(did: string, since: number, limit: number): Promise<StoredBody[]>;
  /** Forgets envelopes stored before `before` (ms), but for each sender's newest sender key to each
   *  recipient, then the profiles signed before it that nothing left names (no room, invitation or
   *  envelope); how many of each went. Sequence numbers are never given again. */
  prune(before: number): Promise<{ envelopes: number; profiles: number }>;

  profile(did: string): Promise<string | undefined>;
  /** Keeps the newer of the stored profile and this one (by its signed time). */
  putProfile(did: string, ts: number, body: string): Promise<void>;

  room(id: string): Promise<RoomRow | undefined>;
  /** Makes a room; false when one of this id exists already (it is left as it was). */
  createRoom(room: RoomRow, created: number): Promise<boolean>;
  /** Public and torrent rooms, the most members first. */
  directory(): Promise<{ id: string; name: string; members: number }[]>;

  members(room: string): Promise<MemberRow[]>;
  isMember(room: string, did: string): Promise<boolean>;
  /** Adds a member (placed after the last envelope stored: it reads the room's messages from there)
   *  unless the room has `max` members; a member already there stays as it was. 'full' when full. */
  addMember(room: string, member: MemberRow, joined: number, max: number): Promise<'added' | 'full'>;
  removeMember(room: string, did: string): Promise<void>;
  /** The rooms a did is a member of. */
  roomsOf(did: string): Promise<string[]>;

  putInvitation(room: string, invitee: string, body: string): Promise<void>;
  invitation(room: string, invitee: string): Promise<string | undefined>;
  /** Invitations to rooms a did has not joined, with the room's charter. */
  invitationsOf(did: string): Promise<{ invitation: string; charter: string }[]>;
  removeInvitation(room: string, invitee: string): Promise<void>;

  /** Those a did exchanged direct messages with, most recent first. */
  directPartners(did: string, limit: number): Promise<string[]>;
  /** Fellow members of its private groups, most recently joined first. */
  groupPeers(did: string, limit: number): Promise<string[]>;

  close(): Promise<void>;
}
