// What a ChatClient knows, in memory: conversations and their messages, profiles, presence, typing,
// invitations and notices, and the one "change" event the UI redraws on. The client (client.ts)
// fills it from the relay and peers; everything here is synchronous and sends nothing.
import { Emitter } from './emitter.ts';
import { type Identity, isDid, type Profile, shortDid } from '../wire/identity.ts';
import type { ChatLimits } from '../wire/protocol.ts';
import type { Envelope } from '../wire/envelope.ts';
import { dmId, type ChatMessage, type ChatNotice, type Conversation, type ConversationKind, type PendingInvite } from './client-types.ts';

export abstract class ChatState extends Emitter<{ change: []; notice: [ChatNotice]; message: [ChatMessage]; ready: [] }> {
  readonly me: Identity;
  readonly conversations = new Map<string, Conversation>();
  readonly profiles = new Map<string, Profile>();
  readonly online = new Set<string>();
  readonly notices: ChatNotice[] = [];
  invites: PendingInvite[] = [];
  directory: { id: string; name: string; members: number }[] = [];
  limits: ChatLimits | undefined;
  active: string | undefined;
  ready = false;
  protected readonly typing = new Map<string, Map<string, number>>();
  protected closed = false;
  private noticeN = 0;
  private changeQueued = false;

  constructor(me: Identity) {
    super();
    this.me = me;
  }

  /** A conversation with `peer` appeared: the client asks for its presence. */
  protected abstract peerSeen(peer: string): void;

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

  typingIn(convId: string): string[] {
    const m = this.typing.get(convId);
    if (!m) return [];
    const now = Date.now();
    return [...m].filter(([, until]) => until > now).map(([did]) => did);
  }

  sortedConversations(): Conversation[] {
    return [...this.conversations.values()].sort((a, b) => b.lastTs - a.lastTs || a.id.localeCompare(b.id));
  }

  /** The conversation an envelope belongs to. */
  protected convOf(env: Envelope): string | undefined {
    if (env.type === 'group') return env.to;
    return dmId(env.from === this.me.did ? env.to : env.from);
  }

  protected conv(id: string, kind: ConversationKind, peer?: string): Conversation {
    let c = this.conversations.get(id);
    if (!c) {
      c = { id, kind, peer, rejected: [], messages: [], unread: 0, lastTs: Date.now() };
      this.conversations.set(id, c);
      if (peer) this.peerSeen(peer);
      this.changed();
    }
    return c;
  }

  protected addMessage(c: Conversation, m: ChatMessage): ChatMessage {
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

  protected findMessage(id: string): ChatMessage | undefined {
    for (const c of this.conversations.values()) {
      for (let i = c.messages.length - 1; i >= 0; i--) if (c.messages[i]!.id === id) return c.messages[i];
    }
    return undefined;
  }

  protected onTyping(m: { from: string; to: string }): void {
    if (!isDid(m?.from) || m.from === this.me.did) return;
    const conv = isDid(m.to) ? dmId(m.from) : m.to;
    if (!this.conversations.has(conv)) return;
    let t = this.typing.get(conv);
    if (!t) this.typing.set(conv, (t = new Map()));
    t.set(m.from, Date.now() + 4000);
    this.changed();
  }

  /** Typing indicators last 4 s after the last keystroke was announced. */
  protected expireTyping(): void {
    const now = Date.now();
    let expired = false;
    for (const t of this.typing.values()) {
      for (const [d, until] of t) if (until <= now) { t.delete(d); expired = true; }
    }
    if (expired) this.changed();
  }

  protected notice(code: string, text: string, conv?: string): void {
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

  protected changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    queueMicrotask(() => {
      this.changeQueued = false;
      if (!this.closed) this.emit('change');
    });
  }
}
