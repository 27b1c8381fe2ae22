// Rooms: public rooms ('p:<slug>'), one room per torrent ('t:<infohash hex>'), and private groups
// ('g:<random>') whose charter is signed by the creator (the admin) and whose members each hold an
// invitation signed by that admin. Both the server and every client check these signatures, so a
// relay cannot slip a member into a private group.
import { randomBytes } from '@noble/hashes/utils.js';
import { b64u } from '@cascade/identity';
import { cleanName, type Identity, isDid, signObject, verifyObject } from './identity.ts';

export type RoomKind = 'public' | 'torrent' | 'private';

export interface RoomCharter {
  v: 1;
  room: string;
  name: string;
  creator: string;
  ts: number;
  sig: string;
}

export interface Invitation {
  v: 1;
  room: string;
  invitee: string;
  inviter: string;
  ts: number;
  sig: string;
}

export interface RoomMember {
  did: string;
  role: 'admin' | 'member';
  invitation?: Invitation;
}

export interface RoomState {
  id: string;
  kind: RoomKind;
  name: string;
  charter?: RoomCharter;
  members: RoomMember[];
}

export const CHARTER_DOMAIN = 'cascade-chat/charter/v1';
export const INVITATION_DOMAIN = 'cascade-chat/invitation/v1';

const PUBLIC_RE = /^p:[a-z0-9][a-z0-9-]{0,39}$/;
const TORRENT_RE = /^t:(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const PRIVATE_RE = /^g:[A-Za-z0-9_-]{22}$/;

export function roomKind(id: unknown): RoomKind | undefined {
  if (typeof id !== 'string') return undefined;
  if (PUBLIC_RE.test(id)) return 'public';
  if (TORRENT_RE.test(id)) return 'torrent';
  if (PRIVATE_RE.test(id)) return 'private';
  return undefined;
}

export function publicRoomId(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'lobby';
  return `p:${slug}`;
}

export function torrentRoomId(infohash: string): string {
  const h = infohash.toLowerCase();
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(h)) throw new Error('infohash must be 40 or 64 hex digits');
  return `t:${h}`;
}

export function createCharter(admin: Identity, name: string, ts = Date.now()): RoomCharter {
  const room = `g:${b64u(randomBytes(16))}`;
  return signObject(admin, CHARTER_DOMAIN, { v: 1 as const, room, name: cleanName(name) || 'Group', creator: admin.did, ts, sig: '' });
}

export function verifyCharter(c: unknown, room?: string): c is RoomCharter {
  if (!c || typeof c !== 'object') return false;
  const o = c as Record<string, unknown>;
  if (o.v !== 1 || roomKind(o.room) !== 'private' || typeof o.name !== 'string' || o.name.length > 64 || !isDid(o.creator) || typeof o.ts !== 'number') return false;
  if (room !== undefined && o.room !== room) return false;
  return verifyObject(o.creator, CHARTER_DOMAIN, o);
}

export function createInvitation(admin: Identity, charter: RoomCharter, invitee: string, ts = Date.now()): Invitation {
  if (charter.creator !== admin.did) throw new Error('only the group admin can invite');
  if (!isDid(invitee)) throw new Error('invitee must be a did:key');
  return signObject(admin, INVITATION_DOMAIN, { v: 1 as const, room: charter.room, invitee, inviter: admin.did, ts, sig: '' });
}

/** An invitation counts if the group's admin signed it for exactly this invitee and room. */
export function verifyInvitation(inv: unknown, charter: RoomCharter, invitee?: string): inv is Invitation {
  if (!inv || typeof inv !== 'object') return false;
  const o = inv as Record<string, unknown>;
  if (o.v !== 1 || o.room !== charter.room || !isDid(o.invitee) || o.inviter !== charter.creator || typeof o.ts !== 'number') return false;
  if (invitee !== undefined && o.invitee !== invitee) return false;
  return verifyObject(charter.creator, INVITATION_DOMAIN, o);
}

/**
 * The members a client will hand its sender key to: everyone for public and torrent rooms; for a
 * private group only the charter's creator and holders of a valid invitation. Returns the rest as `rejected`.
 */
export function verifiedMembers(room: RoomState): { members: string[]; rejected: string[] } {
  const all = room.members.map((m) => m.did).filter(isDid);
  if (room.kind !== 'private') return { members: [...new Set(all)], rejected: [] };
  if (!room.charter || !verifyCharter(room.charter, room.id)) return { members: [], rejected: all };
  const members: string[] = [];
  const rejected: string[] = [];
  for (const m of room.members) {
    if (m.did === room.charter.creator || (m.invitation && verifyInvitation(m.invitation, room.charter, m.did))) members.push(m.did);
    else rejected.push(m.did);
  }
  return { members: [...new Set(members)], rejected };
}
