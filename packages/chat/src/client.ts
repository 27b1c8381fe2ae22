// ChatClient: one signed-in user's side of the chat, platform-free (browser page or Node test).
// It authenticates over the `/chat` socket, syncs and verifies every envelope, keeps conversations,
// sender keys and replay state in memory (all rebuilt from the relay's ciphertext history), sends
// through an outbox that survives disconnects, and carries direct chats over WebRTC when it can.
import { b64u, fromB64u, utf8 } from '@cascade/identity';
import { Emitter } from './emitter.ts';
import {
  ChatError, type Envelope, isEnvelope, MAX_TEXT_LENGTH, openDirect, ReplayGuard, sealDirect, verifyEnvelope,
} from './envelope.ts';
import { createSenderKey, needsRotation, openGroup, sealGroup, senderKeyFromPayload, senderKeyPayload, SenderKeyStore } from './group.ts';
import { type Identity, isDid, makeProfile, type Profile, shortDid, signBytes, verifyProfile } from './identity.ts';
import { P2PSessions, type RtcConstructor } from './p2p.ts';
import { type Ack, AUTH_DOMAIN, type ChatLimits, type IceServer, type StoredEnvelope } from './protocol.ts';
import {
  createCharter, createInvitation, type Invitation, publicRoomId, type RoomCharter, roomKind, type RoomKind, type RoomState,
  torrentRoomId, verifiedMembers, verifyCharter, verifyInvitation,
} from './rooms.ts';

/** The part of a socket.io-client Socket the client uses. */
export interface SocketLike {
  readonly connected: boolean;
  on(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn?: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

export type ConversationKind = 'dm' | RoomKind;
export type Path = 'relay' | 'p2p';

export interface ChatMessage {
  id: string;
  conv: string;
  from: string;
  text: string;
  ts: number;
  seq?: number;
  status: 'sending' | 'sent' | 'received' | 'failed';
  /** how this copy reached this client */
  via: 'local' | 'relay' | 'p2p' | 'history';
}

export interface Conversation {
  id: string;
  kind: ConversationKind;
  peer?: string;
  room?: RoomState;
  /** private-group members without a valid invitation (never given our sender key) */
  rejected: string[];
  messages: ChatMessage[];
  unread: number;
  lastTs: number;
}

export interface ChatNotice {
  n: number;
  ts: number;
  code: string;
  text: string;
  conv?: string;
}

export interface PendingInvite {
  invitation: Invitation;
  charter: RoomCharter;
}

export interface ChatClientOptions {
  identity: Identity;
  socket: SocketLike;
  /** RTCPeerConnection constructor for direct chats; undefined/null = relay only. */
  rtc?: RtcConstructor | null;
  /** Overrides the STUN/TURN list the server hands out. */
  iceServers?: IceServer[];
  requestTimeoutMs?: number;
  p2pAckTimeoutMs?: number;
  p2pConnectTimeoutMs?: number;
  p2pRetryMs?: number;
  /** Keeps unsent envelopes across page reloads (ciphertext only); without it the outbox lives in memory. */
  outboxStore?: OutboxStore;
  /** diagnostics (peer-to-peer negotiation); never message contents */
  debug?: (line: string) => void;
}

type Outgoing = { envs: Envelope[]; copy: boolean; msgIds: string[] };

export interface OutboxStore {
  load(): Promise<{ envs: Envelope[]; copy: boolean }[]>;
  save(batches: { envs: Envelope[]; copy: boolean }[]): Promise<void> | void;
}

const dmId = (did: string): string => `dm:${did}`;

export class ChatClient extends Emitter<{ change: []; notice: [ChatNotice]; message: [ChatMessage]; ready: [] }> {
  readonly me: Identity;
  readonly socket: SocketLike;
  readonly conversations = new Map<string, Conversation>();
  readonly profiles = new Map<string, Profile>();
  readonly online = new Set<string>();
  readonly notices: ChatNotice[] = [];
  invites: PendingInvite[] = [];
  directory: { id: string; name: string; members: number }[] = [];
  limits: ChatLimits | undefined;
  active: string | undefined;
  ready = false;
  /** last relay sequence number seen; sync resumes after it */
  lastSeq = 0;

  private readonly guard = new ReplayGuard();
  private readonly keys = new SenderKeyStore();
  private readonly pendingGroup = new Map<string, Map<string, Envelope>>();
  private readonly outbox: Outgoing[] = [];
  private readonly typing = new Map<string, Map<string, number>>();
  private readonly p2p: P2PSessions;
  private readonly o: ChatClientOptions;
  private iceServers: IceServer[] = [];
  private flushing = false;
  private generation = 0;
  private readonly pending = new Set<(e: Error) => void>();
  private presenceWanted = new Set<string>();
  private presenceQueued = false;
  private closed = false;
  private noticeN = 0;
  private changeQueued = false;
  private lastTypingSent = new Map<string, number>();
  private readonly socketHandlers: [string, (...a: any[]) => void][];
  private readyWaiters: (() => void)[] = [];
  private tick: ReturnType<typeof setInterval> | undefined;
  private profileFetches = new Map<string, Promise<Profile | undefined>>();
  /** envelopes already rejected (id, signature, ciphertext tail): a second sighting is not announced again */
  private readonly rejected = new Set<string>();
  private resyncFrom: number | undefined;
  private resyncTo = 0;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: ChatClientOptions) {
    super();
    this.o = o;
    this.me = o.identity;
    this.socket = o.socket;
    this.profiles.set(this.me.did, makeProfile(this.me));
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
        for (const fail of [...this.pending]) fail(new ChatError('not-authenticated', 'disconnected'));
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
    await this.restoreOutbox();
    for (const [ev, fn] of this.socketHandlers) this.socket.on(ev, fn);
    this.tick = setInterval(() => this.onTick(), 1000);
    if (this.socket.connected) void this.onConnect();
    else this.socket.connect();
    return p;
  }

  /** Envelopes a previous page wrote but never got stored: shown again as sending, and resent. */
  private async restoreOutbox(): Promise<void> {
    let saved: { envs: Envelope[]; copy: boolean }[] = [];
    try {
      saved = (await this.o.outboxStore?.load()) ?? [];
    } catch { /* unreadable store: nothing to restore */ }
    for (const b of saved) {
      const envs = (Array.isArray(b?.envs) ? b.envs : []).filter((e) => isEnvelope(e) && e.from === this.me.did);
      if (envs.length === 0) continue;
      for (const e of envs) this.ingest(e, 'history', {});
      const msgIds = envs.filter((e) => e.type !== 'skey').map((e) => e.id);
      for (const id of msgIds) {
        const m = this.findMessage(id);
        if (m) m.status = 'sending';
      }
      this.outbox.push({ envs, copy: b.copy === true, msgIds });
    }
  }

  private persistOutbox(): void {
    if (!this.o.outboxStore) return;
    try {
      void Promise.resolve(this.o.outboxStore.save(this.outbox.map((o) => ({ envs: o.envs, copy: o.copy })))).catch(() => {});
    } catch { /* best effort */ }
  }

  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  close(): void {
    this.closed = true;
    if (this.tick) clearInterval(this.tick);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.p2p.close();
    for (const [ev, fn] of this.socketHandlers) this.socket.off(ev, fn);
    this.socket.disconnect();
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------- queries for the UI

  displayName(did: string): string {
    return this.profiles.get(did)?.name || shortDid(did);
  }

  title(convId: string): string {
    const c = this.conversations.get(convId);
    if (!c) return convId;
    if (c.kind === 'dm') return c.peer === this.me.did ? 'Notes to self' : this.displayName(c.peer!);
    return c.room?.name ?? convId;
  }

  pathOf(convId: string): Path {
    const c = this.conversations.get(convId);
    return c?.kind === 'dm' && c.peer && this.p2p.isOpen(c.peer) ? 'p2p' : 'relay';
  }

  /** The RTCPeerConnection of a direct conversation's p2p session, if one is up (for stats). */
  peerConnection(did: string): RTCPeerConnection | undefined {
    return this.p2p.connection(did);
  }

  typingIn(convId: string): string[] {
    const m = this.typing.get(convId);
    if (!m) return [];
    const now = Date.now();
    return [...m].filter(([, until]) => until > now).map(([did]) => did);
  }

  sortedConversations(): Conversation[] {
    return [...this.conversations.values()].sort((a, b) => b.lastTs - a.lastTs || a.id.localeCompare(b.id));
  }

  outboxSize(): number {
    return this.outbox.reduce((n, o) => n + o.envs.length, 0);
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
    this.enqueue({ envs: batch, copy: false, msgIds: [msg.id] });
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
    const known = this.profiles.get(did);
    if (known) return Promise.resolve(known);
    let p = this.profileFetches.get(did);
    if (!p) {
      p = this.fetchProfiles([did]).then(() => this.profiles.get(did)).finally(() => this.profileFetches.delete(did));
      this.profileFetches.set(did, p);
    }
    return p;
  }

  async fetchProfiles(dids: string[]): Promise<void> {
    const missing = [...new Set(dids)].filter((d) => !this.profiles.has(d));
    if (missing.length === 0 || !this.socket.connected) return;
    const r = await this.request<{ profiles: unknown[] }>('profile:get', { dids: missing });
    for (const p of r.profiles) {
      if (verifyProfile(p) && missing.includes(p.did)) this.profiles.set(p.did, p);
    }
    this.changed();
  }

  // ---------------------------------------------------------------- connection

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
      void this.flush();
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
    return new Promise<T>((resolve, reject) => {
      if (!this.socket.connected) {
        reject(new ChatError('not-authenticated', 'not connected'));
        return;
      }
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(e);
      };
      const timer = setTimeout(() => fail(new Error(`${event}: no answer from the server`)), this.o.requestTimeoutMs ?? 15_000);
      this.pending.add(fail);
      this.socket.emit(event, arg, (res: Ack<object>) => {
        if (settled) return;
        settled = true;
        this.pending.delete(fail);
        clearTimeout(timer);
        if (res && res.ok) resolve(res as T);
        else reject(new ChatError((res?.error ?? 'bad-request') as ChatError['code'], res?.message ?? res?.error ?? 'request failed'));
      });
    });
  }

  // ---------------------------------------------------------------- sending

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
        this.enqueue({ envs: [env], copy: true, msgIds: [] });
        return;
      } catch {
        copy = true; // it may have arrived; the recipient drops a second copy silently
      }
    }
    this.enqueue({ envs: [env], copy, msgIds: [msg.id] });
  }

  private enqueue(o: Outgoing): void {
    this.outbox.push(o);
    this.persistOutbox();
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.outbox.length > 0 && this.ready && !this.closed) {
        const o = this.outbox[0]!;
        try {
          const r = await this.request<{ results: { id: string; seq: number }[] }>('send', { envs: o.envs, copy: o.copy });
          this.outbox.shift();
          this.persistOutbox();
          for (const res of r.results) {
            const m = this.findMessage(res.id);
            if (m) {
              m.seq = res.seq;
              if (m.status === 'sending') m.status = 'sent';
              if (m.via === 'local') m.via = 'relay';
            }
          }
          this.changed();
        } catch (e) {
          const code = e instanceof ChatError ? e.code : 'timeout';
          if (code === 'rate-limited') {
            this.notice('rate-limited', 'Sending too fast — messages are queued and will go out shortly.');
            await new Promise((r) => setTimeout(r, 1500));
            continue;
          }
          if (code === 'timeout' || code === 'not-authenticated' || !this.socket.connected) break; // retried on reconnect
          this.outbox.shift();
          this.persistOutbox();
          for (const id of o.msgIds) {
            const m = this.findMessage(id);
            if (m) m.status = 'failed';
          }
          this.notice(code, `Message not sent: ${(e as Error).message}`);
        }
      }
    } finally {
      this.flushing = false;
    }
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

  /**
   * A rejected envelope is reported once. If it came as a live relay push, the stored copy is fetched
   * again shortly: when the damage happened in transit, the genuine message still arrives.
   */
  private reject(env: Envelope, via: 'relay' | 'history' | 'p2p', seq: number | undefined, code: string, text: string): void {
    const key = `${env.id}|${env.sig}|${env.ct.length}|${env.ct.slice(-24)}`;
    if (!this.rejected.has(key)) {
      this.rejected.add(key);
      this.notice(code, text, this.convOf(env));
    }
    if (via === 'relay' && typeof seq === 'number' && seq > 0) {
      this.resyncFrom = Math.min(this.resyncFrom ?? Infinity, seq - 1);
      this.resyncTo = Math.max(this.resyncTo, seq);
      this.resyncTimer ??= setTimeout(() => void this.resync(), 500);
    }
  }

  private async resync(): Promise<void> {
    this.resyncTimer = undefined;
    const since = this.resyncFrom;
    const upTo = this.resyncTo;
    this.resyncFrom = undefined;
    if (since === undefined || !this.ready || this.closed) return;
    try {
      // only up to the last rejected push: anything later still arrives live, and must not look replayed then
      const r = await this.request<{ items: StoredEnvelope[] }>('sync', { since, limit: Math.min(500, upTo - since) });
      for (const it of r.items) if (it.seq <= upTo) this.ingest(it.env, 'history', {});
    } catch { /* next reconnect syncs anyway */ }
  }

  private convOf(env: Envelope): string | undefined {
    if (env.type === 'group') return env.to;
    return dmId(env.from === this.me.did ? env.to : env.from);
  }

  private conv(id: string, kind: ConversationKind, peer?: string): Conversation {
    let c = this.conversations.get(id);
    if (!c) {
      c = { id, kind, peer, rejected: [], messages: [], unread: 0, lastTs: Date.now() };
      this.conversations.set(id, c);
      if (peer) this.wantPresence([peer]);
      this.changed();
    }
    return c;
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

  private addMessage(c: Conversation, m: ChatMessage): ChatMessage {
    // messages are kept in timestamp order (history, relay and p2p can interleave)
    let i = c.messages.length;
    while (i > 0 && c.messages[i - 1]!.ts > m.ts) i--;
    c.messages.splice(i, 0, m);
    c.lastTs = Math.max(c.lastTs, m.ts);
    if (m.from !== this.me.did && this.active !== c.id && m.via !== 'history') c.unread++;
    const t = this.typing.get(c.id);
    t?.delete(m.from);
    this.emit('message', m);
    this.changed();
    return m;
  }

  private findMessage(id: string): ChatMessage | undefined {
    for (const c of this.conversations.values()) {
      for (let i = c.messages.length - 1; i >= 0; i--) if (c.messages[i]!.id === id) return c.messages[i];
    }
    return undefined;
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

  private onTyping(m: { from: string; to: string }): void {
    if (!isDid(m?.from) || m.from === this.me.did) return;
    const conv = isDid(m.to) ? dmId(m.from) : m.to;
    if (!this.conversations.has(conv)) return;
    let t = this.typing.get(conv);
    if (!t) this.typing.set(conv, (t = new Map()));
    t.set(m.from, Date.now() + 4000);
    this.changed();
  }

  private onTick(): void {
    const now = Date.now();
    let expired = false;
    for (const t of this.typing.values()) {
      for (const [d, until] of t) if (until <= now) { t.delete(d); expired = true; }
    }
    if (expired) this.changed();
    this.ensureP2P();
    if (this.outbox.length > 0 && this.ready) void this.flush();
  }

  /** Direct chats with an online peer: keep a p2p session to the open conversation's peer. */
  private ensureP2P(): void {
    if (!this.ready || !this.p2p.available) return;
    const c = this.active ? this.conversations.get(this.active) : undefined;
    if (c?.kind === 'dm' && c.peer && c.peer !== this.me.did && this.online.has(c.peer)) this.p2p.ensure(c.peer);
  }

  private notice(code: string, text: string, conv?: string): void {
    const n: ChatNotice = { n: ++this.noticeN, ts: Date.now(), code, text, conv };
    this.notices.push(n);
    if (this.notices.length > 50) this.notices.shift();
    this.emit('notice', n);
    this.changed();
  }

  dismissNotice(n: number): void {
    const i = this.notices.findIndex((x) => x.n === n);
    if (i >= 0) this.notices.splice(i, 1);
    this.changed();
  }

  private changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    queueMicrotask(() => {
      this.changeQueued = false;
      if (!this.closed) this.emit('change');
    });
  }
}
