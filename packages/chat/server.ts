// Chat's server side (Node): the `/chat` socket.io namespace over its own SQLite file.
// It authenticates sockets by a signed challenge, checks every envelope's shape, signature, size,
// rate and addressing, stores it, and relays it. It never holds a key that opens one: the database and
// the log only ever see envelopes (ciphertext) and metadata (ids, dids, room ids, sizes).
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Namespace, Server, Socket } from 'socket.io';
import { fromB64u, utf8 } from '@cascade/identity';
import { ChatError, type Envelope, isEnvelope, verifyEnvelope } from './src/wire/envelope.ts';
import { cleanName, isDid, type Profile, verifyBytes, verifyProfile } from './src/wire/identity.ts';
import { AUTH_DOMAIN, type ChatLimits, CHAT_NAMESPACE, DEFAULT_LIMITS, type IceServer, type StoredEnvelope } from './src/wire/protocol.ts';
import { type Actor, IdentitiesPerAddress, Quota } from './src/relay/quota.ts';
import { type Invitation, type RoomCharter, roomKind, type RoomMember, type RoomState, verifyCharter, verifyInvitation } from './src/wire/rooms.ts';

export { DEFAULT_LIMITS, type ChatLimits } from './src/wire/protocol.ts';

export interface AttachChatOptions {
  /** SQLite file, e.g. `<stateDir>/chat.db` */
  dbPath: string;
  log?: (line: string) => void;
  limits?: Partial<ChatLimits>;
  /** STUN/TURN servers handed to clients for their peer-to-peer sessions (default: none). */
  iceServers?: IceServer[];
  /** The client's address for the per-address budgets: default the socket's. The node passes one
   *  that reads X-Forwarded-For / Forwarded from the proxies its owner trusts, and from no other. */
  clientAddress?: (req: IncomingMessage) => string;
}

export interface ChatServer {
  namespace: Namespace;
  limits: ChatLimits;
  /** Users with at least one authenticated socket. */
  online(): string[];
  /**
   * The people a did talks with here, most recent first: those it exchanged direct messages with,
   * then fellow members of its private groups (not public or torrent rooms); with their profile
   * names. Only dids and names: no message is read.
   */
  contactsOf(did: string, limit?: number): { did: string; name: string | null }[];
  close(): void;
}

interface SocketData {
  did?: string;
  nonce?: string;
}

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

type Handler = (socket: Socket, arg: Record<string, unknown>) => object | Promise<object>;

export function attachChat(io: Server, opts: AttachChatOptions): ChatServer {
  const given = Object.entries(opts.limits ?? {}).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  const limits: ChatLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
  const log = opts.log ?? (() => {});
  if (opts.dbPath !== ':memory:') mkdirSync(dirname(opts.dbPath), { recursive: true });
  const db = new DatabaseSync(opts.dbPath);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
  db.exec(SCHEMA);

  const q = {
    envById: db.prepare('SELECT seq, sender, body FROM envelopes WHERE id = ?'),
    insertEnv: db.prepare('INSERT INTO envelopes (id, kind, sender, recipient, ts, stored, body) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM envelopes'),
    sync: db.prepare(`SELECT seq, body FROM envelopes e WHERE e.seq > ? AND (
        (e.kind IN ('dm', 'skey') AND (e.recipient = ? OR e.sender = ?))
        OR (e.kind = 'group' AND EXISTS (SELECT 1 FROM members m WHERE m.room = e.recipient AND m.did = ? AND e.seq > m.joined_seq)))
      ORDER BY e.seq LIMIT ?`),
    profile: db.prepare('SELECT body FROM profiles WHERE did = ?'),
    putProfile: db.prepare('INSERT INTO profiles (did, ts, body) VALUES (?, ?, ?) ON CONFLICT(did) DO UPDATE SET ts = excluded.ts, body = excluded.body WHERE excluded.ts > profiles.ts'),
    room: db.prepare('SELECT id, kind, name, charter FROM rooms WHERE id = ?'),
    insertRoom: db.prepare('INSERT INTO rooms (id, kind, name, charter, created) VALUES (?, ?, ?, ?, ?)'),
    members: db.prepare('SELECT did, role, invitation FROM members WHERE room = ? ORDER BY joined'),
    memberCount: db.prepare('SELECT COUNT(*) AS n FROM members WHERE room = ?'),
    isMember: db.prepare('SELECT 1 AS x FROM members WHERE room = ? AND did = ?'),
    insertMember: db.prepare('INSERT OR IGNORE INTO members (room, did, role, invitation, joined_seq, joined) VALUES (?, ?, ?, ?, ?, ?)'),
    deleteMember: db.prepare('DELETE FROM members WHERE room = ? AND did = ?'),
    myRooms: db.prepare('SELECT room FROM members WHERE did = ?'),
    directory: db.prepare(`SELECT r.id, r.name, COUNT(m.did) AS n FROM rooms r LEFT JOIN members m ON m.room = r.id
      WHERE r.kind IN ('public', 'torrent') GROUP BY r.id ORDER BY n DESC, r.created DESC LIMIT 100`),
    putInvitation: db.prepare('INSERT INTO invitations (room, invitee, body) VALUES (?, ?, ?) ON CONFLICT(room, invitee) DO UPDATE SET body = excluded.body'),
    invitation: db.prepare('SELECT body FROM invitations WHERE room = ? AND invitee = ?'),
    myInvitations: db.prepare(`SELECT i.body AS inv, r.charter AS charter FROM invitations i JOIN rooms r ON r.id = i.room
      WHERE i.invitee = ? AND NOT EXISTS (SELECT 1 FROM members m WHERE m.room = i.room AND m.did = i.invitee)`),
    deleteInvitation: db.prepare('DELETE FROM invitations WHERE room = ? AND invitee = ?'),
    dmPartners: db.prepare(`SELECT CASE WHEN sender = ? THEN recipient ELSE sender END AS other, MAX(seq) AS last FROM envelopes
      WHERE kind = 'dm' AND (sender = ? OR recipient = ?) GROUP BY other ORDER BY last DESC LIMIT ?`),
    groupPeers: db.prepare(`SELECT m2.did AS other, MAX(m2.joined) AS last FROM members m1 JOIN members m2 ON m2.room = m1.room JOIN rooms r ON r.id = m1.room
      WHERE m1.did = ? AND m2.did != ? AND r.kind NOT IN ('public', 'torrent') GROUP BY m2.did ORDER BY last DESC LIMIT ?`),
  };

  const nsp = io.of(CHAT_NAMESPACE);
  const sockets = new Map<string, Set<string>>(); // did -> socket ids
  const scaled = (burst: number, perSecond: number) => [{ burst, perSecond }, { burst: burst * limits.addressFactor, perSecond: perSecond * limits.addressFactor }] as const;
  const rate = new Quota(...scaled(limits.rateBurst, limits.ratePerSecond));
  const signalRate = new Quota(...scaled(limits.signalBurst, limits.signalPerSecond));
  const roomRate = new Quota(...scaled(limits.roomBurst, limits.roomsPerSecond));
  const identities = new IdentitiesPerAddress(limits.maxIdentitiesPerAddress, limits.identityWindowMs);
  // One identity per engine.io connection: leaving /chat and joining again must not mint another.
  const connectionDid = new WeakMap<object, string>();
  const connectionIds = new WeakMap<object, string>();
  const connectionOf = (socket: Socket): string => {
    let id = connectionIds.get(socket.conn);
    if (!id) {
      const key = (id = randomBytes(9).toString('base64url'));
      connectionIds.set(socket.conn, key);
      // Budgets end with the connection, not with one namespace socket on it (re-joining /chat
      // must not refill them).
      socket.conn.once('close', () => [rate, signalRate, roomRate].forEach((quota) => quota.forget(key)));
    }
    return id;
  };
  const addressOf = (socket: Socket): string => (opts.clientAddress ? opts.clientAddress(socket.request) : socket.handshake.address);
  const actor = (socket: Socket): Actor => ({ did: (socket.data as SocketData).did, connection: connectionOf(socket), address: addressOf(socket) });

  const profileOf = (did: string): Profile | undefined => {
    const row = q.profile.get(did) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Profile) : undefined;
  };

  const roomState = (id: string): RoomState | undefined => {
    const r = q.room.get(id) as { id: string; kind: RoomState['kind']; name: string; charter: string | null } | undefined;
    if (!r) return undefined;
    const members = (q.members.all(id) as { did: string; role: RoomMember['role']; invitation: string | null }[]).map((m) => ({
      did: m.did, role: m.role, ...(m.invitation ? { invitation: JSON.parse(m.invitation) as Invitation } : {}),
    }));
    return { id: r.id, kind: r.kind, name: r.name, ...(r.charter ? { charter: JSON.parse(r.charter) as RoomCharter } : {}), members };
  };

  const isMember = (room: string, did: string): boolean => q.isMember.get(room, did) !== undefined;
  const maxSeq = (): number => (q.maxSeq.get() as { s: number }).s;

  const announceRoom = (id: string): void => {
    const room = roomState(id);
    if (room) nsp.to(`room:${id}`).emit('room:update', { room });
  };

  const joinSocketsOf = (did: string, room: string): void => {
    nsp.in(`did:${did}`).socketsJoin(`room:${room}`);
  };

  const addMember = (room: string, did: string, role: RoomMember['role'], invitation?: Invitation): void => {
    const n = (q.memberCount.get(room) as { n: number }).n;
    if (n >= limits.maxRoomMembers) throw new ChatError('forbidden', 'room is full');
    q.insertMember.run(room, did, role, invitation ? JSON.stringify(invitation) : null, maxSeq(), Date.now());
    joinSocketsOf(did, room);
    announceRoom(room);
  };

  const handlers: Record<string, Handler> = {
    'auth:challenge': (socket) => {
      const nonce = randomBytes(32).toString('base64url');
      (socket.data as SocketData).nonce = nonce;
      return { nonce };
    },

    auth: (socket, a) => {
      const data = socket.data as SocketData;
      const { did, sig, profile } = a as { did: unknown; sig: unknown; profile: unknown };
      const nonce = data.nonce;
      data.nonce = undefined;
      if (!nonce || !isDid(did) || typeof sig !== 'string') throw new ChatError('bad-request', 'ask for a challenge first');
      let sigBytes: Uint8Array;
      try {
        sigBytes = fromB64u(sig);
      } catch {
        throw new ChatError('bad-signature');
      }
      if (!verifyBytes(did, AUTH_DOMAIN, utf8(`${nonce}|${did}`), sigBytes)) throw new ChatError('bad-signature', 'challenge signature does not verify');
      if (!verifyProfile(profile) || profile.did !== did) throw new ChatError('bad-signature', 'profile signature does not verify');
      if (data.did && data.did !== did) throw new ChatError('forbidden', 'socket already signed in as someone else');
      const onConnection = connectionDid.get(socket.conn);
      if (onConnection && onConnection !== did) throw new ChatError('forbidden', 'this connection already signed in as someone else');
      if (!identities.admit(addressOf(socket), did)) {
        log(`chat: too many identities from ${addressOf(socket)}`);
        throw new ChatError('rate-limited', 'too many identities from this address, try again later');
      }
      connectionDid.set(socket.conn, did);
      q.putProfile.run(did, profile.ts, JSON.stringify(profile));
      data.did = did;
      socket.join([`did:${did}`, 'authed', ...(q.myRooms.all(did) as { room: string }[]).map((r) => `room:${r.room}`)]);
      let set = sockets.get(did);
      if (!set) {
        sockets.set(did, (set = new Set()));
        nsp.to('authed').emit('presence', { did, online: true });
      }
      set.add(socket.id);
      log(`chat: auth ${did} socket=${socket.id}`);
      return { did, iceServers: opts.iceServers ?? [], limits };
    },

    'profile:get': (_s, a) => {
      const dids = Array.isArray(a.dids) ? (a.dids as unknown[]).filter(isDid).slice(0, 500) : [];
      return { profiles: dids.map(profileOf).filter((p): p is Profile => p !== undefined) };
    },

    'profile:put': (socket, a) => {
      const me = authed(socket);
      if (!verifyProfile(a.profile) || a.profile.did !== me) throw new ChatError('bad-signature', 'profile signature does not verify');
      q.putProfile.run(me, a.profile.ts, JSON.stringify(a.profile));
      return {};
    },

    'presence:get': (socket, a) => {
      authed(socket);
      const dids = Array.isArray(a.dids) ? (a.dids as unknown[]).filter(isDid).slice(0, 1000) : [];
      return { online: dids.filter((d) => sockets.has(d)) };
    },

    send: (socket, a) => {
      const me = authed(socket);
      const envs = a.envs;
      if (!Array.isArray(envs) || envs.length === 0 || envs.length > limits.maxBatch) throw new ChatError('bad-request', 'envs must be a non-empty list');
      const copy = a.copy === true;
      const now = Date.now();
      const checked: { env: Envelope; body: string; existing?: number }[] = [];
      for (const x of envs as unknown[]) {
        if (!isEnvelope(x)) throw new ChatError('malformed', 'malformed envelope');
        const body = JSON.stringify(x);
        if (utf8(body).length > limits.maxEnvelopeBytes) throw new ChatError('too-large', `envelope exceeds ${limits.maxEnvelopeBytes} bytes`);
        if (x.from !== me) throw new ChatError('forbidden', 'envelope sender is not the signed-in user');
        if (!verifyEnvelope(x)) throw new ChatError('bad-signature', 'envelope signature does not verify');
        if (Math.abs(x.ts - now) > limits.maxClockSkewMs) throw new ChatError('stale', 'envelope timestamp too far from server time');
        const prior = q.envById.get(x.id) as { seq: number; sender: string; body: string } | undefined;
        if (prior) {
          // Idempotent retry of the very same envelope by its sender; anything else reusing an id is a replay.
          if (prior.sender === me && prior.body === body) {
            checked.push({ env: x, body, existing: prior.seq });
            continue;
          }
          throw new ChatError('replay', 'message id already used');
        }
        if (checked.some((c) => c.env.id === x.id)) throw new ChatError('replay', 'message id repeated in batch');
        if (x.type === 'group') {
          if (!isMember(x.to, me)) throw new ChatError('not-member', 'not a member of this room');
        } else {
          if (x.to !== me && !profileOf(x.to)) throw new ChatError('unknown-user', 'recipient has never signed in here');
          if (x.type === 'skey' && !isMember(x.room!, me)) throw new ChatError('not-member', 'not a member of this room');
        }
        checked.push({ env: x, body });
      }
      const fresh = checked.filter((c) => c.existing === undefined);
      const skeys = fresh.filter((c) => c.env.type === 'skey').length;
      const cost = fresh.length - skeys + Math.ceil(skeys / 20);
      if (cost > 0 && !rate.take(actor(socket), cost)) {
        log(`chat: rate-limited ${me}`);
        throw new ChatError('rate-limited', 'too many messages, slow down');
      }
      const results: { id: string; seq: number; duplicate?: boolean }[] = [];
      db.exec('BEGIN');
      try {
        for (const c of checked) {
          if (c.existing !== undefined) {
            results.push({ id: c.env.id, seq: c.existing, duplicate: true });
            continue;
          }
          const r = q.insertEnv.run(c.env.id, c.env.type, c.env.from, c.env.to, c.env.ts, now, c.body);
          results.push({ id: c.env.id, seq: Number(r.lastInsertRowid) });
        }
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
      checked.forEach((c, i) => {
        const r = results[i]!;
        if (r.duplicate) return;
        const push = { seq: r.seq, env: c.env, ...(copy ? { copy: true } : {}) };
        const target = c.env.type === 'group' ? [`room:${c.env.to}`] : [`did:${c.env.to}`, `did:${c.env.from}`];
        nsp.to(target).except(socket.id).emit('env', push);
        log(`chat: stored ${c.env.type} id=${c.env.id} seq=${r.seq} from=${c.env.from} to=${c.env.to} bytes=${c.body.length}${copy ? ' copy' : ''}`);
      });
      return { results };
    },

    sync: (socket, a) => {
      const me = authed(socket);
      const since = typeof a.since === 'number' && a.since >= 0 ? Math.floor(a.since) : 0;
      const limit = Math.min(typeof a.limit === 'number' && a.limit > 0 ? Math.floor(a.limit) : 500, 1000);
      const rows = q.sync.all(since, me, me, me, limit + 1) as { seq: number; body: string }[];
      const items: StoredEnvelope[] = rows.slice(0, limit).map((r) => ({ seq: r.seq, env: JSON.parse(r.body) as Envelope }));
      return { items, more: rows.length > limit, last: items.at(-1)?.seq ?? since };
    },

    'rooms:list': (socket) => {
      const me = authed(socket);
      const rooms = (q.myRooms.all(me) as { room: string }[]).map((r) => roomState(r.room)).filter((r): r is RoomState => r !== undefined);
      const invites = (q.myInvitations.all(me) as { inv: string; charter: string }[]).map((r) => ({
        invitation: JSON.parse(r.inv) as Invitation, charter: JSON.parse(r.charter) as RoomCharter,
      }));
      const directory = (q.directory.all() as { id: string; name: string; n: number }[]).map((r) => ({ id: r.id, name: r.name, members: r.n }));
      return { rooms, invites, directory };
    },

    'room:create': (socket, a) => {
      const me = authed(socket);
      const charter = a.charter;
      if (!verifyCharter(charter)) throw new ChatError('bad-signature', 'group charter does not verify');
      if (charter.creator !== me) throw new ChatError('forbidden', 'the charter names someone else as creator');
      if (q.room.get(charter.room)) throw new ChatError('bad-request', 'room exists');
      if (!roomRate.take(actor(socket), 1)) throw new ChatError('rate-limited', 'too many new rooms, slow down');
      q.insertRoom.run(charter.room, 'private', charter.name, JSON.stringify(charter), Date.now());
      addMember(charter.room, me, 'admin');
      log(`chat: room created ${charter.room} by ${me}`);
      return { room: roomState(charter.room)! };
    },

    'room:join': (socket, a) => {
      const me = authed(socket);
      const id = a.room;
      const kind = roomKind(id);
      if (!kind || typeof id !== 'string') throw new ChatError('bad-request', 'not a room id');
      if (isMember(id, me)) return { room: roomState(id)! };
      if (kind === 'private') {
        const room = roomState(id);
        if (!room?.charter) throw new ChatError('no-such-room', 'no such group');
        const stored = q.invitation.get(id, me) as { body: string } | undefined;
        const inv = a.invitation ?? (stored ? (JSON.parse(stored.body) as unknown) : undefined);
        if (!verifyInvitation(inv, room.charter, me)) {
          log(`chat: join refused (not invited) ${id} ${me}`);
          throw new ChatError('not-invited', 'this group is private: you need an invitation from its admin');
        }
        addMember(id, me, 'member', inv);
        q.deleteInvitation.run(id, me);
      } else {
        if (!q.room.get(id)) {
          if (!roomRate.take(actor(socket), 1)) throw new ChatError('rate-limited', 'too many new rooms, slow down');
          const fallback = kind === 'torrent' ? `Torrent ${id.slice(2, 10)}` : id.slice(2);
          const name = cleanName(typeof a.name === 'string' ? a.name : '') || fallback;
          q.insertRoom.run(id, kind, name, null, Date.now());
        }
        addMember(id, me, 'member');
      }
      log(`chat: joined ${id} ${me}`);
      return { room: roomState(id)! };
    },

    'room:invite': (socket, a) => {
      const me = authed(socket);
      const inv = a.invitation as Invitation | undefined;
      const room = typeof inv?.room === 'string' ? roomState(inv.room) : undefined;
      if (!room?.charter) throw new ChatError('no-such-room', 'no such group');
      if (room.charter.creator !== me) throw new ChatError('forbidden', 'only the group admin can invite');
      if (!verifyInvitation(inv, room.charter)) throw new ChatError('bad-signature', 'invitation does not verify');
      if (!profileOf(inv.invitee)) throw new ChatError('unknown-user', 'invitee has never signed in here');
      q.putInvitation.run(room.id, inv.invitee, JSON.stringify(inv));
      nsp.to(`did:${inv.invitee}`).emit('invite', { invitation: inv, charter: room.charter });
      log(`chat: invited ${inv.invitee} to ${room.id}`);
      return {};
    },

    'room:leave': (socket, a) => {
      const me = authed(socket);
      const id = a.room;
      if (typeof id !== 'string' || !isMember(id, me)) throw new ChatError('not-member');
      q.deleteMember.run(id, me);
      nsp.in(`did:${me}`).socketsLeave(`room:${id}`);
      nsp.to(`did:${me}`).emit('room:removed', { room: id });
      announceRoom(id);
      log(`chat: left ${id} ${me}`);
      return {};
    },

    typing: (socket, a) => {
      const me = authed(socket);
      if (!signalRate.take(actor(socket), 1)) throw new ChatError('rate-limited');
      const to = a.to;
      if (isDid(to)) nsp.to(`did:${to}`).emit('typing', { from: me, to: me });
      else if (typeof to === 'string' && roomKind(to) && isMember(to, me)) nsp.to(`room:${to}`).except(`did:${me}`).emit('typing', { from: me, to });
      else throw new ChatError('bad-request');
      return {};
    },

    'rtc:signal': (socket, a) => {
      const me = authed(socket);
      if (!isDid(a.to)) throw new ChatError('bad-request');
      if (JSON.stringify(a.data ?? null).length > limits.maxSignalBytes) throw new ChatError('too-large');
      if (!signalRate.take(actor(socket), 1)) throw new ChatError('rate-limited');
      // to one connection of the peer when the client names it (a user may be signed in on several)
      const target = typeof a.toSocket === 'string' && sockets.get(a.to)?.has(a.toSocket) ? a.toSocket : `did:${a.to}`;
      nsp.to(target).emit('rtc:signal', { from: me, fromSocket: socket.id, data: a.data });
      return {};
    },
  };

  function authed(socket: Socket): string {
    const did = (socket.data as SocketData).did;
    if (!did) throw new ChatError('not-authenticated', 'sign in first');
    return did;
  }

  nsp.on('connection', (socket) => {
    for (const [event, handler] of Object.entries(handlers)) {
      socket.on(event, async (arg: unknown, ack: unknown) => {
        const reply = typeof ack === 'function' ? (ack as (r: object) => void) : () => {};
        try {
          const a = arg && typeof arg === 'object' && !Array.isArray(arg) ? (arg as Record<string, unknown>) : {};
          reply({ ok: true, ...(await handler(socket, a)) });
        } catch (err) {
          const code = err instanceof ChatError ? err.code : 'internal';
          if (!(err instanceof ChatError)) log(`chat: internal error in ${event}: ${(err as Error).message}`);
          reply({ ok: false, error: code, message: err instanceof Error ? err.message : String(err) });
        }
      });
    }
    socket.on('disconnect', () => {
      const did = (socket.data as SocketData).did;
      if (!did) return;
      const set = sockets.get(did);
      set?.delete(socket.id);
      if (set && set.size === 0) {
        sockets.delete(did);
        nsp.to('authed').emit('presence', { did, online: false });
      }
    });
  });

  return {
    namespace: nsp,
    limits,
    online: () => [...sockets.keys()],
    contactsOf(did, limit = 50) {
      const dids = [
        ...(q.dmPartners.all(did, did, did, limit) as { other: string }[]),
        ...(q.groupPeers.all(did, did, limit) as { other: string }[]),
      ].map((r) => r.other);
      return [...new Set(dids)]
        .filter((d) => d !== did)
        .slice(0, limit)
        .map((d) => ({ did: d, name: profileOf(d)?.name ?? null }));
    },
    close() {
      nsp.disconnectSockets(true);
      nsp.removeAllListeners('connection');
      try {
        db.close();
      } catch {
        /* already closed */
      }
    },
  };
}
