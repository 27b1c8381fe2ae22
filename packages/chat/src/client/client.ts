// ChatClient: one signed-in user's side of the chat, platform-free (browser page or Node test).
// It authenticates over the `/chat` socket, syncs and verifies every envelope, keeps conversations,
// sender keys and replay state in memory (all rebuilt from the relay's ciphertext history), sends
// through an outbox that survives disconnects, and carries direct chats over WebRTC when it can.
import { b64u, fromB64u, utf8 } from '@cascade/identity';
import { ChatState } from './chat-state.ts';
import {
  ChatError, type Envelope, isEnvelope, MAX_TEXT_LENGTH, openDirect, ReplayGuard, sealDirect, verifyEnvelope,
} from '../wire/envelope.ts';
import { createSenderKey, needsRotation, openGroup, sealGroup, senderKeyFromPayload, senderKeyPayload, SenderKeyStore } from '../wire/group.ts';
import { isDid, makeProfile, type Profile, shortDid, signBytes } from '../wire/identity.ts';
import { P2PSessions } from './p2p.ts';
import { Outbox } from './outbox.ts';
import { RelayRequests } from './relay-requests.ts';
import { Rejections } from './rejections.ts';
import { ProfileFetcher } from './profile-fetcher.ts';
import {
  dmId, type ChatClientOptions, type ChatMessage, type ChatNotice, type Conversation, type ConversationKind, type Path, type PendingInvite,
  type SocketLike,
} from './client-types.ts';
import { AUTH_DOMAIN, type ChatLimits, type IceServer, type StoredEnvelope } from '../wire/protocol.ts';
import {
  createCharter, createInvitation, type Invitation, publicRoomId, roomKind, type RoomState,
  torrentRoomId, verifiedMembers, verifyCharter, verifyInvitation,
} from '../wire/rooms.ts';

export type { ChatClientOptions, ChatMessage, ChatNotice, Conversation, ConversationKind, OutboxStore, Path, PendingInvite, SocketLike } from './client-types.ts';

export class ChatClient extends ChatState {
  readonly socket: SocketLike;
  /** last relay sequence number seen; sync resumes after it */
  lastSeq = 0;

  private readonly guard = new ReplayGuard();
  private readonly keys = new SenderKeyStore();
  private readonly pendingGroup = new Map<string, Map<string, Envelope>>();
  private readonly outbox: Outbox;
  private readonly p2p: P2PSessions;
  private readonly o: ChatClientOptions;
  private iceServers: IceServer[] = [];
  private generation = 0;
  private readonly requests: RelayRequests;
  private presenceWanted = new Set<string>();
  private presenceQueued = false;
  private lastTypingSent = new Map<string, number>();
  private readonly socketHandlers: [string, (...a: any[]) => void][];
  private readyWaiters: (() => void)[] = [];
  private tick: ReturnType<typeof setInterval> | undefined;
  private readonly profileFetcher: ProfileFetcher;
  private readonly rejections: Rejections;

  constructor(o: ChatClientOptions) {
    super(o.identity);
    this.o = o;
    this.requests = new RelayRequests(o.socket, o.requestTimeoutMs);
    this.socket = o.socket;
    this.profiles.set(this.me.did, makeProfile(this.me));
    // What the client's helpers (profiles, rejected envelopes, the outbox) may ask of it.
    const host = {
      profiles: this.profiles,
      canSend: () => this.ready && !this.closed,
      connected: () => this.socket.connected,
      request: <T>(event: string, arg: unknown) => this.request<T>(event, arg),
      changed: () => this.changed(),
      notice: (code: string, text: string, conv?: string) => this.notice(code, text, conv),
      findMessage: (id: string) => this.findMessage(id),
      ingest: (env: unknown) => this.ingest(env, 'history', {}),
    };
    this.profileFetcher = new ProfileFetcher(host);
    this.rejections = new Rejections(host);
    this.outbox = new Outbox(host, o.outboxStore);
    this.p2p = new P2PSessions({
      me: this.me.did,
      rtc: o.rtc ?? undefined,
      iceServers: () => (o.iceServers ?? this.iceServers) as RTCIceServer[],
      sendSignal: (to, data, toSocket) => { if (this.ready) this.request('rtc:signal', { to, toSocket, data }).catch(() => {}); },
      onEnvelope: (from, env) => this.ingest(env, 'p2p', { peer: from }),
      onState: () => this.changed(),
      ackTimeoutMs: o.p2pAckTimeoutMs,
      connectTimeoutMs: o.p2pConnectTimeoutMs,
      retryMs: o.p2pRetryMs,
      log: o.debug,
    });
    this.socketHandlers = [
      ['connect', () => void this.onConnect()],
      ['disconnect', (reason: string) => {
        this.ready = false;
        this.requests.failAll(new ChatError('not-authenticated', 'disconnected'));
        this.changed();
        // socket.io does not reconnect by itself after a server-side disconnect (e.g. the node shutting down)
        if (reason === 'io server disconnect') setTimeout(() => { if (!this.closed && !this.socket.connected) this.socket.connect(); }, 1000);
      }],
      ['env', (m: { seq?: number; env?: unknown; copy?: boolean }) => this.ingest(m?.env, 'relay', { seq: m?.seq, copy: m?.copy === true })],
      ['presence', (m: { did: string; online: boolean }) => this.onPresence(m)],
      ['typing', (m: { from: string; to: string }) => this.onTyping(m)],
      ['room:update', (m: { room: RoomState }) => this.onRoom(m.room)],
      ['room:removed', (m: { room: string }) => { this.conversations.delete(m.room); this.keys.forgetCurrent(m.room); this.changed(); }],
      ['invite', (m: PendingInvite) => this.onInvite(m)],
      ['rtc:signal', (m: { from: string; fromSocket?: string; data: unknown }) => {
        if (isDid(m?.from)) this.p2p.handleSignal(m.from, m.data, typeof m.fromSocket === 'string' ? m.fromSocket : undefined);
      }],
    ];
  }

  /** Connect (if needed), sign in and sync. Resolves once the first sync is done. */
  async start(): Promise<void> {
    const p = this.whenReady();
    await this.outbox.restore(this.me.did, (e) => this.ingest(e, 'history', {}));
    for (const [ev, fn] of this.socketHandlers) this.socket.on(ev, fn);
    this.tick = setInterval(() => this.onTick(), 1000);
    if (this.socket.connected) void this.onConnect();
    else this.socket.connect();
    return p;
  }

  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  close(): void {
    this.closed = true;
    if (this.tick) clearInterval(this.tick);
    this.rejections.close();
    this.p2p.close();
    for (const [ev, fn] of this.socketHandlers) this.socket.off(ev, fn);
    this.socket.disconnect();
    this.removeAllListeners();
  }

  pathOf(convId: string): Path {
    const c = this.conversations.get(convId);
    return c?.kind === 'dm' && c.peer && this.p2p.isOpen(c.peer) ? 'p2p' : 'relay';
  }

  /** The RTCPeerConnection of a direct conversation's p2p session, if one is up (for stats). */
  peerConnection(did: string): RTCPeerConnection | undefined {
    return this.p2p.connection(did);
  }

  outboxSize(): number {
    return this.outbox.size();
  }

  // ---------------------------------------------------------------- actions

  openDm(did: string): Conversation {
    const peer = did.trim();
    if (!isDid(peer)) throw new ChatError('bad-request', 'that is not a did:key (expected did:key:z6Mk…)');
    const c = this.conv(dmId(peer), 'dm', peer);
    void this.profile(peer);
    this.setActive(c.id);
    this.wantPresence([peer]);
    return c;
  }

  setActive(convId: string | undefined): void {
    this.active = convId;
    const c = convId ? this.conversations.get(convId) : undefined;
    if (c) c.unread = 0;
    this.ensureP2P();
    this.changed();
  }

  async sendText(convId: string, text: string): Promise<ChatMessage> {
    const body = text.trim();
    if (!body) throw new ChatError('bad-request', 'empty message');
    if (body.length > MAX_TEXT_LENGTH) throw new ChatError('too-large', `messages are limited to ${MAX_TEXT_LENGTH} characters`);
    const c = this.conversations.get(convId);
    if (!c) throw new ChatError('bad-request', 'no such conversation');
    const payload = { kind: 'text' as const, text: body };
    if (c.kind === 'dm') {
      const peer = c.peer!;
      const prof = await this.profile(peer);
      if (!prof) throw new ChatError('unknown-user', `${shortDid(peer)} has not used chat on this node yet`);
      const env = sealDirect(this.me, { did: peer, dh: fromB64u(prof.dh) }, 'dm', payload, { ctr: this.nextCtr('dm', peer) });
      this.guard.accept(env);
      const msg = this.addMessage(c, { id: env.id, conv: c.id, from: this.me.did, text: body, ts: env.ts, status: 'sending', via: 'local' });
      void this.deliverDirect(peer, env, msg);
      return msg;
    }
    const room = c.room;
    if (!room) throw new ChatError('not-member', 'not a member of this room');
    const { members } = verifiedMembers(room);
    if (!members.includes(this.me.did)) throw new ChatError('not-member', 'not a member of this room');
    const batch: Envelope[] = [];
    let sk = this.keys.current(room.id);
    if (needsRotation(sk, members)) {
      await this.fetchProfiles(members);
      const reachable = members.filter((m) => this.profiles.has(m));
      sk = createSenderKey(this.me.did, room.id, members);
      this.keys.put(sk, true);
      for (const m of reachable) {
        const prof = this.profiles.get(m)!;
        const e = sealDirect(this.me, { did: m, dh: fromB64u(prof.dh) }, 'skey', senderKeyPayload(sk), { ctr: this.nextCtr('skey', m), room: room.id });
        this.guard.accept(e);
        batch.push(e);
      }
    }
    const env = sealGroup(this.me, sk!, payload, { ctr: this.nextCtr('group', room.id) });
    this.guard.accept(env);
    batch.push(env);
    const msg = this.addMessage(c, { id: env.id, conv: c.id, from: this.me.did, text: body, ts: env.ts, status: 'sending', via: 'local' });
    this.outbox.push({ envs: batch, copy: false, msgIds: [msg.id] });
    return msg;
  }

  notifyTyping(convId: string): void {
    const c = this.conversations.get(convId);
    if (!c || !this.ready) return;
    const now = Date.now();
    if (now - (this.lastTypingSent.get(convId) ?? 0) < 2000) return;
    this.lastTypingSent.set(convId, now);
    this.request('typing', { to: c.kind === 'dm' ? c.peer : c.id }).catch(() => {});
  }

  async createGroup(name: string): Promise<Conversation> {
    const charter = createCharter(this.me, name);
    const r = await this.request<{ room: RoomState }>('room:create', { charter });
    this.onRoom(r.room);
    this.setActive(r.room.id);
    return this.conversations.get(r.room.id)!;
  }

  async invite(roomId: string, did: string): Promise<void> {
    const invitee = did.trim();
    if (!isDid(invitee)) throw new ChatError('bad-request', 'that is not a did:key');
    const charter = this.conversations.get(roomId)?.room?.charter;
    if (!charter) throw new ChatError('no-such-room', 'not a private group');
    if (charter.creator !== this.me.did) throw new ChatError('forbidden', 'only the group admin can invite');
    await this.request('room:invite', { invitation: createInvitation(this.me, charter, invitee) });
  }

  /** Join a room by id ('p:…', 't:<infohash>', 'g:…'), a public room name, or an invitation. */
  async join(roomIdOrName: string, o: { name?: string; invitation?: Invitation } = {}): Promise<Conversation> {
    const raw = roomIdOrName.trim();
    const id = roomKind(raw) ? raw : /^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(raw) ? torrentRoomId(raw) : publicRoomId(raw);
    const invitation = o.invitation ?? this.invites.find((i) => i.invitation.room === id)?.invitation;
    const r = await this.request<{ room: RoomState }>('room:join', { room: id, name: o.name ?? (roomKind(raw) ? undefined : raw), invitation });
    this.invites = this.invites.filter((i) => i.invitation.room !== id);
    for (let i = this.notices.length - 1; i >= 0; i--) if (this.notices[i]!.code === 'invite' && this.notices[i]!.conv === id) this.notices.splice(i, 1);
    this.onRoom(r.room);
    this.setActive(r.room.id);
    return this.conversations.get(r.room.id)!;
  }

  joinTorrent(infohash: string, name?: string): Promise<Conversation> {
    return this.join(torrentRoomId(infohash), { name });
  }

  async leave(roomId: string): Promise<void> {
    await this.request('room:leave', { room: roomId });
    this.conversations.delete(roomId);
    this.keys.forgetCurrent(roomId);
    if (this.active === roomId) this.active = undefined;
    this.changed();
  }

  async setName(name: string): Promise<void> {
    this.me.name = name;
    const p = makeProfile(this.me);
    this.profiles.set(this.me.did, p);
    this.changed();
    if (this.ready) await this.request('profile:put', { profile: p });
  }

  /** Fetch (and verify) a user's signed profile. */
  profile(did: string): Promise<Profile | undefined> {
    return this.profileFetcher.profile(did);
  }

  fetchProfiles(dids: string[]): Promise<void> {
    return this.profileFetcher.fetch(dids);
  }

  private async onConnect(): Promise<void> {
    const gen = ++this.generation;
    try {
      const { nonce } = await this.request<{ nonce: string }>('auth:challenge', {});
      const sig = b64u(signBytes(this.me, AUTH_DOMAIN, utf8(`${nonce}|${this.me.did}`)));
      const a = await this.request<{ iceServers: IceServer[]; limits: ChatLimits }>('auth', { did: this.me.did, sig, profile: makeProfile(this.me) });
      this.iceServers = a.iceServers ?? [];
      this.limits = a.limits;
      const list = await this.request<{ rooms: RoomState[]; invites: PendingInvite[]; directory: ChatClient['directory'] }>('rooms:list', {});
      for (const r of list.rooms) this.onRoom(r, false);
      this.invites = [];
      for (const i of list.invites) this.onInvite(i, false);
      this.directory = list.directory;
      await this.syncAll();
      const peers = [...this.conversations.values()].filter((c) => c.kind === 'dm').map((c) => c.peer!);
      const roomPeers = [...this.conversations.values()].flatMap((c) => c.room?.members.map((m) => m.did) ?? []);
      await this.fetchProfiles([...peers, ...roomPeers]).catch(() => {});
      const pres = await this.request<{ online: string[] }>('presence:get', { dids: [...new Set([...peers, ...roomPeers])] });
      this.online.clear();
      for (const d of pres.online) this.online.add(d);
      if (gen !== this.generation) return; // a newer connection took over
      this.ready = true;
      for (let i = this.notices.length - 1; i >= 0; i--) if (this.notices[i]!.code === 'connect') this.notices.splice(i, 1);
      for (const w of this.readyWaiters.splice(0)) w();
      this.emit('ready');
      this.changed();
      this.ensureP2P();
      void this.outbox.flush();
    } catch (e) {
      if (this.closed || gen !== this.generation || !this.socket.connected) return; // superseded or dropped: the next connect retries
      this.notice('connect', `Could not sign in to chat: ${(e as Error).message}`);
      // socket.io reconnects on transport errors; an application-level failure retries on a timer
      setTimeout(() => { if (gen === this.generation && !this.ready && this.socket.connected && !this.closed) void this.onConnect(); }, 3000);
    }
  }

  private async syncAll(): Promise<void> {
    for (;;) {
      const r = await this.request<{ items: StoredEnvelope[]; more: boolean; last: number }>('sync', { since: this.lastSeq, limit: 500 });
      for (const it of r.items) this.ingest(it.env, 'history', { seq: it.seq });
      this.lastSeq = Math.max(this.lastSeq, r.last);
      if (!r.more) break;
    }
  }

  request<T>(event: string, arg: unknown): Promise<T> {
    return this.requests.request<T>(event, arg);
  }

  private nextCtr(kind: 'dm' | 'skey' | 'group', to: string): number {
    return this.guard.highestCounter(ReplayGuard.chain({ type: kind, from: this.me.did, to })) + 1;
  }

  private async deliverDirect(peer: string, env: Envelope, msg: ChatMessage): Promise<void> {
    let copy = false;
    if (this.p2p.isOpen(peer)) {
      try {
        await this.p2p.send(peer, env);
        msg.status = 'sent';
        msg.via = 'p2p';
        this.changed();
        // the peer has it; the relay keeps a copy for history and the user's other devices
        this.outbox.push({ envs: [env], copy: true, msgIds: [] });
        return;
      } catch {
        copy = true; // it may have arrived; the recipient drops a second copy silently
      }
    }
    this.outbox.push({ envs: [env], copy, msgIds: [msg.id] });
  }

  // ---------------------------------------------------------------- receiving

  /** Verify, de-duplicate, decrypt and file one envelope. Never throws: rejections become notices. */
  ingest(x: unknown, via: 'relay' | 'history' | 'p2p', meta: { seq?: number; copy?: boolean; peer?: string }): void {
    if (typeof meta.seq === 'number' && via === 'history') this.lastSeq = Math.max(this.lastSeq, meta.seq);
    if (!isEnvelope(x)) {
      this.notice('malformed', `Rejected a malformed message${meta.peer ? ` from ${this.displayName(meta.peer)}` : ''}.`);
      return;
    }
    const env = x;
    const who = this.displayName(env.from);
    if (this.guard.has(env.id)) {
      // Sync after a push, or the relay's copy of something that came peer-to-peer, is expected;
      // the same envelope arriving live again is a replay.
      if (via === 'history' || meta.copy) return;
      this.notice('replay', `Rejected a replayed message from ${who} (id ${env.id.slice(0, 8)}…).`, this.convOf(env));
      return;
    }
    if (!verifyEnvelope(env)) {
      this.reject(env, via, meta.seq, 'bad-signature', `Rejected a message claiming to be from ${who}: its signature does not verify (tampered or forged).`);
      return;
    }
    if (via === 'p2p' && (env.type !== 'dm' || env.from !== meta.peer || env.to !== this.me.did)) {
      this.notice('forbidden', `Rejected a message on the peer-to-peer channel with ${this.displayName(meta.peer!)}: wrong sender or recipient.`);
      return;
    }
    if (env.type !== 'group' && env.to !== this.me.did && env.from !== this.me.did) return;
    const st = this.guard.check(env);
    if (st !== 'ok') {
      this.notice(st, `Rejected a ${st === 'replay' ? 'replayed' : 'stale (replayed?)'} message from ${who}.`, this.convOf(env));
      return;
    }
    if (typeof meta.seq === 'number') this.lastSeq = Math.max(this.lastSeq, meta.seq);
    const how = via === 'history' ? 'history' : via;
    try {
      if (env.type === 'dm') {
        const p = openDirect(this.me, env);
        this.guard.accept(env);
        const peer = env.from === this.me.did ? env.to : env.from;
        const c = this.conv(dmId(peer), 'dm', peer);
        if (!this.profiles.has(peer)) void this.profile(peer).catch(() => {});
        if (p.kind === 'text') this.addMessage(c, { id: env.id, conv: c.id, from: env.from, text: p.text, ts: env.ts, seq: meta.seq, status: env.from === this.me.did ? 'sent' : 'received', via: how });
      } else if (env.type === 'skey') {
        const p = openDirect(this.me, env);
        this.guard.accept(env);
        const sk = senderKeyFromPayload(env.from, p, env.ts);
        this.keys.put(sk, env.from === this.me.did);
        const waiting = this.pendingGroup.get(`${sk.room}|${sk.owner}|${sk.kid}`);
        if (waiting) {
          this.pendingGroup.delete(`${sk.room}|${sk.owner}|${sk.kid}`);
          for (const e of waiting.values()) this.ingest(e, 'history', {});
        }
      } else {
        const sk = this.keys.get(env.to, env.from, env.kid!);
        if (!sk) {
          const k = `${env.to}|${env.from}|${env.kid}`;
          let m = this.pendingGroup.get(k);
          if (!m) this.pendingGroup.set(k, (m = new Map()));
          m.set(env.id, env);
          return;
        }
        const p = openGroup(env, sk);
        this.guard.accept(env);
        const c = this.conversations.get(env.to) ?? this.conv(env.to, roomKind(env.to) ?? 'public');
        if (p.kind === 'text') this.addMessage(c, { id: env.id, conv: c.id, from: env.from, text: p.text, ts: env.ts, seq: meta.seq, status: env.from === this.me.did ? 'sent' : 'received', via: how });
      }
    } catch (e) {
      const code = e instanceof ChatError ? e.code : 'decrypt-failed';
      const why = code === 'decrypt-failed' ? 'its ciphertext does not decrypt (tampered)' : (e as Error).message;
      this.reject(env, via, meta.seq, code, `Rejected a message from ${who}: ${why}.`);
    }
  }

  private reject(env: Envelope, via: 'relay' | 'history' | 'p2p', seq: number | undefined, code: string, text: string): void {
    this.rejections.reject(env, via, seq, code, text, this.convOf(env));
  }

  protected peerSeen(peer: string): void {
    this.wantPresence([peer]);
  }

  /** Ask for the current presence of users we newly care about (later changes are pushed). */
  private wantPresence(dids: string[]): void {
    for (const d of dids) if (d !== this.me.did) this.presenceWanted.add(d);
    if (this.presenceQueued || !this.ready || this.presenceWanted.size === 0) return;
    this.presenceQueued = true;
    setTimeout(() => {
      this.presenceQueued = false;
      const dids = [...this.presenceWanted];
      this.presenceWanted.clear();
      if (dids.length === 0 || !this.ready) return;
      this.request<{ online: string[] }>('presence:get', { dids }).then((r) => {
        for (const d of r.online) this.online.add(d);
        this.ensureP2P();
        this.changed();
      }).catch(() => {});
    }, 50);
  }

  private onRoom(room: RoomState, announce = true): void {
    if (!room || !roomKind(room.id)) return;
    if (room.kind === 'private' && !verifyCharter(room.charter, room.id)) {
      this.notice('bad-signature', `Ignored group ${room.id}: its charter signature does not verify.`);
      return;
    }
    const c = this.conv(room.id, room.kind);
    const before = c.room ? verifiedMembers(c.room).members.join() : '';
    c.room = room;
    const v = verifiedMembers(room);
    c.rejected = v.rejected;
    if (v.rejected.length > 0 && announce) {
      this.notice('not-invited', `${room.name}: ignoring ${v.rejected.length} member(s) without a valid invitation.`, room.id);
    }
    if (before !== v.members.join()) {
      void this.fetchProfiles(v.members).catch(() => {});
      this.wantPresence(v.members);
    }
    this.changed();
  }

  private onInvite(m: PendingInvite, announce = true): void {
    if (!m || !verifyCharter(m.charter) || !verifyInvitation(m.invitation, m.charter, this.me.did)) return;
    if (this.invites.some((i) => i.invitation.room === m.invitation.room)) return;
    this.invites.push(m);
    if (announce) this.notice('invite', `${this.displayName(m.charter.creator)} invited you to “${m.charter.name}”.`, m.invitation.room);
    void this.profile(m.charter.creator).catch(() => {});
    this.changed();
  }

  private onPresence(m: { did: string; online: boolean }): void {
    if (!isDid(m?.did)) return;
    if (m.online) this.online.add(m.did);
    else {
      this.online.delete(m.did);
      this.p2p.drop(m.did, 'peer offline');
    }
    this.ensureP2P();
    this.changed();
  }

  private onTick(): void {
    this.expireTyping();
    this.ensureP2P();
    if (this.outbox.waiting && this.ready) void this.outbox.flush();
  }

  /** Direct chats with an online peer: keep a p2p session to the open conversation's peer. */
  private ensureP2P(): void {
    if (!this.ready || !this.p2p.available) return;
    const c = this.active ? this.conversations.get(this.active) : undefined;
    if (c?.kind === 'dm' && c.peer && c.peer !== this.me.did && this.online.has(c.peer)) this.p2p.ensure(c.peer);
  }
}
