// Chat's server side (Node): the `/chat` socket.io namespace over its own store (src/relay/chat-store.ts:
// the SQLite file beside the node's state, or another store given: PostgresChatStore in the node's
// PostgreSQL database).
// It authenticates sockets by a signed challenge, checks every envelope's shape, signature, size,
// rate and addressing, stores it, and relays it. It never holds a key that opens one: the database and
// the log only ever see envelopes (ciphertext) and metadata (ids, dids, room ids, sizes).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Namespace, Server, Socket } from 'socket.io';
import { fromB64u, utf8 } from '@cascade/identity';
import { ChatError, type Envelope, isEnvelope, verifyEnvelope } from './src/wire/envelope.ts';
import { cleanName, isDid, type Profile, verifyBytes, verifyProfile } from './src/wire/identity.ts';
import { AUTH_DOMAIN, type ChatLimits, CHAT_NAMESPACE, DEFAULT_LIMITS, type IceServer, type StoredEnvelope } from './src/wire/protocol.ts';
import { type Actor, IdentitiesPerAddress, Quota } from './src/relay/quota.ts';
import { type Invitation, type RoomCharter, roomKind, type RoomMember, type RoomState, verifyCharter, verifyInvitation } from './src/wire/rooms.ts';
import type { ChatStore } from './src/relay/chat-store.ts';
import { SqliteChatStore } from './src/relay/sqlite-chat-store.ts';

export { DEFAULT_LIMITS, type ChatLimits } from './src/wire/protocol.ts';
export type { ChatStore } from './src/relay/chat-store.ts';
export { PostgresChatStore, CHAT_TABLES, type ChatDatabase } from './src/relay/postgres-chat-store.ts';

export interface AttachChatOptions {
  /** SQLite file, e.g. `<stateDir>/chat.db` (unless `store` is given) */
  dbPath: string;
  /** Where the relay keeps what it stores, instead of the SQLite file (a cluster's shared database). */
  store?: ChatStore;
  log?: (line: string) => void;
  limits?: Partial<ChatLimits>;
  /** STUN/TURN servers handed to clients for their peer-to-peer sessions (default: none). */
  iceServers?: IceServer[];
  /** The client's address for the per-address budgets: default the socket's. The node passes one
   *  that reads X-Forwarded-For / Forwarded from the proxies its owner trusts, and from no other. */
  clientAddress?: (req: IncomingMessage) => string;
  /** How long the relay keeps an envelope for clients that have not fetched it, and the profile of
   *  one not signed in since that nothing names (ms; default CHAT_RETENTION_MS). Clients keep their
   *  own history; this is the relay's copy. 0 = forever. */
  retentionMs?: number;
}

/** The relay's copy of a message, a sender key or a direct message is kept 30 days (docs/retention.md):
 *  a member offline longer misses what was sent meanwhile. Before, the relay kept every envelope
 *  forever (bench/soak: chat.db's envelopes grew with every message ever sent). */
export const CHAT_RETENTION_MS = 30 * 24 * 3_600_000;
/** How often the relay forgets what is past its retention. */
const PRUNE_EVERY_MS = 3_600_000;

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
  contactsOf(did: string, limit?: number): Promise<{ did: string; name: string | null }[]>;
  close(): void;
}

interface SocketData {
  did?: string;
  nonce?: string;
}

type Handler = (socket: Socket, arg: Record<string, unknown>) => object | Promise<object>;

/** The relay before it serves sockets: its store (pruned from the start), its budgets and the
 *  contacts it knows; attach() serves the /chat namespace on a socket.io server, once. A node
 *  opens it at start and attaches it when socket.io is loaded (its first client). */
export interface ChatRelay extends Omit<ChatServer, 'namespace'> {
  attach(io: Server): Namespace;
}

export function attachChat(io: Server, opts: AttachChatOptions): ChatServer {
  const relay = openChatRelay(opts);
  return { ...relay, namespace: relay.attach(io) };
}

export function openChatRelay(opts: AttachChatOptions): ChatRelay {
  const given = Object.entries(opts.limits ?? {}).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0);
  const limits: ChatLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
  const log = opts.log ?? (() => {});
  const store = opts.store ?? new SqliteChatStore(opts.dbPath);
  const retentionMs = opts.retentionMs ?? CHAT_RETENTION_MS;
  const prune = () => {
    if (retentionMs <= 0) return;
    void store.prune(Date.now() - retentionMs).then(({ envelopes, profiles }) => {
      if (envelopes > 0) log(`chat: ${envelopes} envelopes past the relay's retention forgotten`);
      if (profiles > 0) log(`chat: ${profiles} profiles past the relay's retention forgotten`);
    }, (err: Error) => log(`chat: pruning failed: ${err.message}`));
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS).unref();

  // Set by attach(), before any socket can reach a handler.
  let nsp!: Namespace;
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

  const profileOf = async (did: string): Promise<Profile | undefined> => {
    const body = await store.profile(did);
    return body ? (JSON.parse(body) as Profile) : undefined;
  };

  const roomState = async (id: string): Promise<RoomState | undefined> => {
    const r = await store.room(id);
    if (!r) return undefined;
    const members: RoomMember[] = (await store.members(id)).map((m) => ({
      did: m.did, role: m.role, ...(m.invitation ? { invitation: JSON.parse(m.invitation) as Invitation } : {}),
    }));
    return { id: r.id, kind: r.kind, name: r.name, ...(r.charter ? { charter: JSON.parse(r.charter) as RoomCharter } : {}), members };
  };

  const isMember = (room: string, did: string): Promise<boolean> => store.isMember(room, did);

  const announceRoom = async (id: string): Promise<void> => {
    const room = await roomState(id);
    if (room) nsp.to(`room:${id}`).emit('room:update', { room });
  };

  const joinSocketsOf = (did: string, room: string): void => {
    nsp.in(`did:${did}`).socketsJoin(`room:${room}`);
  };

  const addMember = async (room: string, did: string, role: RoomMember['role'], invitation?: Invitation): Promise<void> => {
    const added = await store.addMember(room, { did, role, invitation: invitation ? JSON.stringify(invitation) : null }, Date.now(), limits.maxRoomMembers);
    if (added === 'full') throw new ChatError('forbidden', 'room is full');
    joinSocketsOf(did, room);
    await announceRoom(room);
  };

  const handlers: Record<string, Handler> = {
    'auth:challenge': (socket) => {
      const nonce = randomBytes(32).toString('base64url');
      (socket.data as SocketData).nonce = nonce;
      return { nonce };
    },

    auth: async (socket, a) => {
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
      await store.putProfile(did, profile.ts, JSON.stringify(profile));
      const rooms = await store.roomsOf(did);
      data.did = did;
      socket.join([`did:${did}`, 'authed', ...rooms.map((r) => `room:${r}`)]);
      let set = sockets.get(did);
      if (!set) {
        sockets.set(did, (set = new Set()));
        nsp.to('authed').emit('presence', { did, online: true });
      }
      set.add(socket.id);
      log(`chat: auth ${did} socket=${socket.id}`);
      return { did, iceServers: opts.iceServers ?? [], limits };
    },

    'profile:get': async (_s, a) => {
      const dids = Array.isArray(a.dids) ? (a.dids as unknown[]).filter(isDid).slice(0, 500) : [];
      return { profiles: (await Promise.all(dids.map(profileOf))).filter((p): p is Profile => p !== undefined) };
    },

    'profile:put': async (socket, a) => {
      const me = authed(socket);
      if (!verifyProfile(a.profile) || a.profile.did !== me) throw new ChatError('bad-signature', 'profile signature does not verify');
      await store.putProfile(me, a.profile.ts, JSON.stringify(a.profile));
      return {};
    },

    'presence:get': (socket, a) => {
      authed(socket);
      const dids = Array.isArray(a.dids) ? (a.dids as unknown[]).filter(isDid).slice(0, 1000) : [];
      return { online: dids.filter((d) => sockets.has(d)) };
    },

    send: async (socket, a) => {
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
        const prior = await store.envelope(x.id);
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
          if (!(await isMember(x.to, me))) throw new ChatError('not-member', 'not a member of this room');
        } else {
          if (x.to !== me && !(await store.profile(x.to))) throw new ChatError('unknown-user', 'recipient has never signed in here');
          if (x.type === 'skey' && !(await isMember(x.room!, me))) throw new ChatError('not-member', 'not a member of this room');
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
      // The new ones in one transaction: all stored, or none (and the sender sends them again).
      let seqs: number[];
      try {
        seqs = await store.addEnvelopes(fresh.map((c) => ({ id: c.env.id, kind: c.env.type, sender: c.env.from, recipient: c.env.to, ts: c.env.ts, stored: now, body: c.body })));
      } catch (err) {
        // One of them was stored meanwhile by another request (the same outbox sent from two tabs):
        // checked again, it is a duplicate (or a replay), answered as if that request came first.
        if (a.again !== true && (await Promise.all(fresh.map((c) => store.envelope(c.env.id)))).some((e) => e !== undefined)) return handlers.send!(socket, { ...a, again: true });
        throw err;
      }
      let next = 0;
      const results: { id: string; seq: number; duplicate?: boolean }[] = checked.map((c) =>
        c.existing !== undefined ? { id: c.env.id, seq: c.existing, duplicate: true } : { id: c.env.id, seq: seqs[next++]! },
      );
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

    sync: async (socket, a) => {
      const me = authed(socket);
      const since = typeof a.since === 'number' && a.since >= 0 ? Math.floor(a.since) : 0;
      const limit = Math.min(typeof a.limit === 'number' && a.limit > 0 ? Math.floor(a.limit) : 500, 1000);
      const rows = await store.envelopesFor(me, since, limit + 1);
      const items: StoredEnvelope[] = rows.slice(0, limit).map((r) => ({ seq: r.seq, env: JSON.parse(r.body) as Envelope }));
      return { items, more: rows.length > limit, last: items.at(-1)?.seq ?? since };
    },

    'rooms:list': async (socket) => {
      const me = authed(socket);
      const rooms = (await Promise.all((await store.roomsOf(me)).map(roomState))).filter((r): r is RoomState => r !== undefined);
      const invites = (await store.invitationsOf(me)).map((r) => ({
        invitation: JSON.parse(r.invitation) as Invitation, charter: JSON.parse(r.charter) as RoomCharter,
      }));
      return { rooms, invites, directory: await store.directory() };
    },

    'room:create': async (socket, a) => {
      const me = authed(socket);
      const charter = a.charter;
      if (!verifyCharter(charter)) throw new ChatError('bad-signature', 'group charter does not verify');
      if (charter.creator !== me) throw new ChatError('forbidden', 'the charter names someone else as creator');
      if (await store.room(charter.room)) throw new ChatError('bad-request', 'room exists');
      if (!roomRate.take(actor(socket), 1)) throw new ChatError('rate-limited', 'too many new rooms, slow down');
      // Made by another request meanwhile: the same answer as above.
      if (!(await store.createRoom({ id: charter.room, kind: 'private', name: charter.name, charter: JSON.stringify(charter) }, Date.now()))) throw new ChatError('bad-request', 'room exists');
      await addMember(charter.room, me, 'admin');
      log(`chat: room created ${charter.room} by ${me}`);
      return { room: (await roomState(charter.room))! };
    },

    'room:join': async (socket, a) => {
      const me = authed(socket);
      const id = a.room;
      const kind = roomKind(id);
      if (!kind || typeof id !== 'string') throw new ChatError('bad-request', 'not a room id');
      if (await isMember(id, me)) return { room: (await roomState(id))! };
      if (kind === 'private') {
        const room = await roomState(id);
        if (!room?.charter) throw new ChatError('no-such-room', 'no such group');
        const stored = await store.invitation(id, me);
        const inv = a.invitation ?? (stored ? (JSON.parse(stored) as unknown) : undefined);
        if (!verifyInvitation(inv, room.charter, me)) {
          log(`chat: join refused (not invited) ${id} ${me}`);
          throw new ChatError('not-invited', 'this group is private: you need an invitation from its admin');
        }
        await addMember(id, me, 'member', inv);
        await store.removeInvitation(id, me);
      } else {
        if (!(await store.room(id))) {
          if (!roomRate.take(actor(socket), 1)) throw new ChatError('rate-limited', 'too many new rooms, slow down');
          const fallback = kind === 'torrent' ? `Torrent ${id.slice(2, 10)}` : id.slice(2);
          const name = cleanName(typeof a.name === 'string' ? a.name : '') || fallback;
          // Made by another request meanwhile: that one stands.
          await store.createRoom({ id, kind, name, charter: null }, Date.now());
        }
        await addMember(id, me, 'member');
      }
      log(`chat: joined ${id} ${me}`);
      return { room: (await roomState(id))! };
    },

    'room:invite': async (socket, a) => {
      const me = authed(socket);
      const inv = a.invitation as Invitation | undefined;
      const room = typeof inv?.room === 'string' ? await roomState(inv.room) : undefined;
      if (!room?.charter) throw new ChatError('no-such-room', 'no such group');
      if (room.charter.creator !== me) throw new ChatError('forbidden', 'only the group admin can invite');
      if (!verifyInvitation(inv, room.charter)) throw new ChatError('bad-signature', 'invitation does not verify');
      if (!(await store.profile(inv.invitee))) throw new ChatError('unknown-user', 'invitee has never signed in here');
      await store.putInvitation(room.id, inv.invitee, JSON.stringify(inv));
      nsp.to(`did:${inv.invitee}`).emit('invite', { invitation: inv, charter: room.charter });
      log(`chat: invited ${inv.invitee} to ${room.id}`);
      return {};
    },

    'room:leave': async (socket, a) => {
      const me = authed(socket);
      const id = a.room;
      if (typeof id !== 'string' || !(await isMember(id, me))) throw new ChatError('not-member');
      await store.removeMember(id, me);
      nsp.in(`did:${me}`).socketsLeave(`room:${id}`);
      nsp.to(`did:${me}`).emit('room:removed', { room: id });
      await announceRoom(id);
      log(`chat: left ${id} ${me}`);
      return {};
    },

    typing: async (socket, a) => {
      const me = authed(socket);
      if (!signalRate.take(actor(socket), 1)) throw new ChatError('rate-limited');
      const to = a.to;
      if (isDid(to)) nsp.to(`did:${to}`).emit('typing', { from: me, to: me });
      else if (typeof to === 'string' && roomKind(to) && (await isMember(to, me))) nsp.to(`room:${to}`).except(`did:${me}`).emit('typing', { from: me, to });
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

  const serve = (io: Server): Namespace => {
    if (nsp) throw new Error('the chat relay is attached already');
    nsp = io.of(CHAT_NAMESPACE);
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
    return nsp;
  };

  return {
    attach: serve,
    limits,
    online: () => [...sockets.keys()],
    async contactsOf(did, limit = 50) {
      const dids = [...(await store.directPartners(did, limit)), ...(await store.groupPeers(did, limit))];
      const chosen = [...new Set(dids)].filter((d) => d !== did).slice(0, limit);
      return Promise.all(chosen.map(async (d) => ({ did: d, name: (await profileOf(d))?.name ?? null })));
    },
    close() {
      clearInterval(pruneTimer);
      // This relay's sockets only: behind socket.io's Redis adapter (a cluster, issue 42) a bare
      // disconnectSockets would drop every member's.
      nsp?.local.disconnectSockets(true);
      nsp?.removeAllListeners('connection');
      void store.close();
    },
  };
}
