// One chat session per page: identity from IndexedDB, a socket to `/chat` on this origin, and a
// ChatClient. It outlives the ChatPage component, so presence, peer-to-peer sessions and incoming
// messages keep going while the user looks at other tabs of the app.
import { io } from 'socket.io-client';
import { ChatClient } from '../src/client/client.ts';
import type { Identity } from '../src/wire/identity.ts';
import type { IceServer } from '../src/wire/protocol.ts';
import { loadOrCreateIdentity, saveIdentity } from './identity-store.ts';
import { indexedDbOutbox } from './outbox-store.ts';

export interface SessionOptions {
  /** socket.io namespace URL; default '/chat' on the page's origin */
  url?: string;
  /** overrides the STUN/TURN servers the node hands out */
  iceServers?: IceServer[];
}

type Listener = () => void;

class ChatSession {
  client: ChatClient | undefined;
  error: string | undefined;
  version = 0;
  private readonly listeners = new Set<Listener>();
  private starting: Promise<void> | undefined;
  private pendingTorrent: { infohash: string; name?: string } | undefined;
  private opts: SessionOptions = {};

  subscribe = (fn: Listener): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  snapshot = (): number => this.version;

  bump(): void {
    this.version++;
    for (const fn of [...this.listeners]) fn();
  }

  start(opts: SessionOptions = {}): Promise<void> {
    this.opts = opts;
    this.starting ??= loadOrCreateIdentity()
      .then((id) => this.connect(id))
      .catch((e: unknown) => {
        this.error = `Chat could not start: ${(e as Error).message}`;
        this.starting = undefined;
        this.bump();
      });
    return this.starting;
  }

  private connect(identity: Identity): void {
    // its own connection (forceNew): the app's other sockets come and go with its views
    const socket = io(this.opts.url ?? '/chat', { transports: ['websocket', 'polling'], tryAllTransports: true, autoConnect: false, forceNew: true });
    const rtc = typeof RTCPeerConnection === 'function' ? RTCPeerConnection : null;
    let debug: ((line: string) => void) | undefined;
    try {
      if (localStorage.getItem('cascade.chat.debug')) debug = (line) => console.debug(`[chat] ${line}`);
    } catch { /* storage unavailable */ }
    const client = new ChatClient({ identity, socket, rtc, iceServers: this.opts.iceServers, debug, outboxStore: indexedDbOutbox(identity.did) });
    this.client = client;
    this.error = undefined;
    client.on('change', () => this.bump());
    client.on('ready', () => {
      const t = this.pendingTorrent;
      if (t) {
        this.pendingTorrent = undefined;
        client.joinTorrent(t.infohash, t.name).catch(() => {});
      }
    });
    void client.start();
    this.bump();
  }

  /** Replace the identity (after an import): saved to IndexedDB, then a fresh connection. */
  async replaceIdentity(id: Identity): Promise<void> {
    await saveIdentity(id);
    this.client?.close();
    this.client = undefined;
    this.connect(id);
  }

  async rename(name: string): Promise<void> {
    const c = this.client;
    if (!c) return;
    await c.setName(name);
    await saveIdentity(c.me);
  }

  /** Open (joining if needed) the room of a torrent; usable before the chat page is shown. */
  openTorrentRoom(infohash: string, name?: string): void {
    const c = this.client;
    if (c?.ready) c.joinTorrent(infohash, name).catch(() => {});
    else this.pendingTorrent = { infohash, name };
  }
}

export const chatSession = new ChatSession();

/** For the rest of the app: open the chat room of a torrent (then show the Chat tab). */
export function openTorrentChat(infohash: string, name?: string): void {
  void chatSession.start();
  chatSession.openTorrentRoom(infohash, name);
}
