// The soak's API clients: qBittorrent Web API and Transmission RPC pollers (as *arr tools and remote
// GUIs poll), socket.io feed clients that connect, listen and drop (as browser tabs do), and chat
// users who come and go and post to a room. All on the node's loopback address.

import { io, type Socket } from 'socket.io-client';
import { ChatClient, generateIdentity, type Identity } from '@cascade/chat';
import { api, type SoakNode } from './node.ts';

/** qBittorrent's Web API with its cookie, logging in again when the session is gone. */
export class QbSession {
  #cookie: string | undefined;
  logins = 0;

  readonly node: SoakNode;
  constructor(node: SoakNode) {
    this.node = node;
  }

  async #login(): Promise<string> {
    const res = await fetch(new URL('/api/v2/auth/login', this.node.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: this.node.token }).toString(),
      signal: AbortSignal.timeout(60_000),
    });
    const set = res.headers.get('set-cookie');
    await res.text();
    if (res.status !== 200 || !set) throw new Error(`qBittorrent login: ${res.status}`);
    this.logins++;
    return set.split(';')[0]!;
  }

  /** Forgets the cookie: the next call logs in again (a client restarted). */
  drop(): void {
    this.#cookie = undefined;
  }

  async #call(path: string, init: RequestInit): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      this.#cookie ??= await this.#login();
      const res = await fetch(new URL(`/api/v2/${path}`, this.node.url), { ...init, headers: { ...(init.headers as Record<string, string>), cookie: this.#cookie }, signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      if (res.status === 403 && attempt === 0) {
        this.#cookie = undefined;
        continue;
      }
      if (!res.ok) throw new Error(`qBittorrent ${path}: ${res.status} ${text.slice(0, 200)}`);
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
  }

  get(path: string): Promise<unknown> {
    return this.#call(path, { method: 'GET' });
  }

  post(path: string, form: Record<string, string>): Promise<unknown> {
    return this.#call(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }
}

/** Transmission RPC with its session id (fetched again on 409, as clients do). */
export class TransmissionRpc {
  #session = '';
  readonly node: SoakNode;
  constructor(node: SoakNode) {
    this.node = node;
  }

  async call(method: string, args: unknown): Promise<any> {
    const auth = `Basic ${Buffer.from(`soak:${this.node.token}`).toString('base64')}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await fetch(new URL('/transmission/rpc', this.node.url), {
        method: 'POST',
        headers: { authorization: auth, 'x-transmission-session-id': this.#session },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      if (res.status === 409) {
        this.#session = res.headers.get('x-transmission-session-id') ?? '';
        continue;
      }
      if (!res.ok) throw new Error(`transmission ${method}: ${res.status} ${text.slice(0, 200)}`);
      const body = JSON.parse(text) as { result: string; arguments: unknown };
      if (body.result !== 'success') throw new Error(`transmission ${method}: ${body.result}`);
      return body.arguments;
    }
    throw new Error(`transmission ${method}: no session id`);
  }
}

export interface ClientStats {
  polls: number;
  feedConnects: number;
  feedEvents: number;
  chatSent: number;
  chatConnects: number;
  errors: string[];
}

/** One round of what API clients do: qBittorrent's sync/maindata (with its rid) and torrents/info,
 *  Transmission's torrent-get of the list and session-stats, Cascade's own list and health. */
export class Pollers {
  #rid = 0;
  readonly node: SoakNode;
  readonly qb: QbSession;
  readonly tr: TransmissionRpc;
  readonly stats: ClientStats;
  constructor(node: SoakNode, qb: QbSession, tr: TransmissionRpc, stats: ClientStats) {
    this.node = node;
    this.qb = qb;
    this.tr = tr;
    this.stats = stats;
  }

  async round(): Promise<void> {
    try {
      const main = (await this.qb.get(`sync/maindata?rid=${this.#rid}`)) as { rid: number };
      this.#rid = main.rid;
      await this.qb.get('torrents/info?filter=all&limit=50&sort=added_on&reverse=true');
      await this.tr.call('torrent-get', { fields: ['id', 'hashString', 'name', 'percentDone', 'status', 'rateDownload', 'rateUpload', 'labels'] });
      await this.tr.call('session-stats', {});
      for (const path of ['/api/torrents?limit=100', '/api/health']) {
        const res = await api(this.node, path);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
      }
      this.stats.polls++;
      // Now and then a client restarts and logs in afresh (as Sonarr does every few minutes).
      if (Math.random() < 0.2) this.qb.drop();
    } catch (err) {
      this.stats.errors.push(`poll: ${(err as Error).message}`);
    }
  }
}

/** socket.io feed clients (the web UI's live list): each connects, listens a while, and drops. */
export class FeedClients {
  readonly #open = new Set<Socket>();
  readonly node: SoakNode;
  readonly stats: ClientStats;
  constructor(node: SoakNode, stats: ClientStats) {
    this.node = node;
    this.stats = stats;
  }

  connect(lifetimeMs: number): void {
    const socket = io(this.node.url, { forceNew: true, reconnection: false, transports: [Math.random() < 0.5 ? 'websocket' : 'polling'], extraHeaders: { authorization: `Bearer ${this.node.token}` } });
    this.#open.add(socket);
    this.stats.feedConnects++;
    socket.onAny(() => this.stats.feedEvents++);
    socket.on('connect_error', (err) => this.stats.errors.push(`feed: ${err.message}`));
    setTimeout(() => this.#close(socket), lifetimeMs).unref();
  }

  #close(socket: Socket): void {
    socket.disconnect();
    this.#open.delete(socket);
  }

  get open(): number {
    return this.#open.size;
  }

  closeAll(): void {
    for (const s of [...this.#open]) this.#close(s);
  }
}

/**
 * Chat users (a few fixed identities, so the relay's per-address sign-in budget is not what is
 * tested) who sign in, post to a shared group and a torrent's room, and leave.
 */
export class ChatUsers {
  readonly #ids: Identity[];
  readonly #online = new Map<number, ChatClient>();
  #room: string | undefined;

  readonly node: SoakNode;
  readonly stats: ClientStats;
  constructor(node: SoakNode, stats: ClientStats, count = 3) {
    this.node = node;
    this.stats = stats;
    this.#ids = Array.from({ length: count }, (_, i) => generateIdentity(`soak-${i}`));
  }

  async #signIn(i: number): Promise<ChatClient> {
    const socket = io(`${this.node.url}/chat`, { transports: ['websocket'], autoConnect: false, forceNew: true, reconnectionDelay: 500, reconnectionDelayMax: 2000 });
    const c = new ChatClient({ identity: this.#ids[i]!, socket, rtc: null });
    c.on('ready', () => {});
    await c.start();
    await c.whenReady();
    this.stats.chatConnects++;
    this.#online.set(i, c);
    return c;
  }

  /** One user toggles: off when online, else on; an online user posts a message. */
  async step(): Promise<void> {
    const i = Math.floor(Math.random() * this.#ids.length);
    try {
      const c = this.#online.get(i);
      if (c && Math.random() < 0.3) {
        c.close();
        this.#online.delete(i);
        return;
      }
      const user = c ?? (await this.#signIn(i));
      if (this.#room === undefined) this.#room = (await user.join('soak-lounge', { name: 'soak-lounge' })).id;
      else if (!user.conversations.has(this.#room)) await user.join(this.#room);
      await user.sendText(this.#room, `message at ${new Date().toISOString()}`);
      this.stats.chatSent++;
    } catch (err) {
      this.stats.errors.push(`chat: ${(err as Error).message}`);
    }
  }

  closeAll(): void {
    for (const c of this.#online.values()) c.close();
    this.#online.clear();
  }
}
