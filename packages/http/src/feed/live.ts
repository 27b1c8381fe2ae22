// Live updates over socket.io, on the API's own HTTP server (the events' shapes: @cascade/shapes' feed).
//   server → client  `torrents`          {torrents: TorrentSummary[]}  the whole list: on connect, and
//                                        in answer to client → server `torrents:resync`
//   server → client  `torrents:changes`  {updated: TorrentSummary[], removed: string[]}  the rows that
//                                        changed since the last send, whole, and the infohashes gone;
//                                        at most once a second, soon after a poke, never empty
//   client → server  `subscribe`         infoHash   (also `unsubscribe`)
//   server → client  `torrent:<hash>`    TorrentDetail every second to subscribers, or null once removed
//   server → client  `settings`          Settings, whole, whenever they change (any door)
//   server → client  `market`            {listing?, order?}: one of this node's listings or orders, as it changed
// Rows come from the summary cache (summary-cache.ts): a tick compares revisions and builds only
// what changed, so 10,000 idle torrents cost a millisecond a second and send nothing. Work is only
// done while a client is connected, and details only for torrents someone watches.
// In a cluster (issue 42) socket.io's Redis adapter joins the members' servers, yet this feed is sent
// to the sockets of this member only (io.local): each member sends its own view, which its change
// bus keeps current with every member's writes (@cascade/cluster), so a page on any member hears
// every change once — from its own member, and even after a Redis outage (the views are read
// again). Through the adapter go the events that exist on one member only (the chat's).
// The torrent feed is the node's private state: only members (and the token) connect to it; other
// namespaces (the chat's /chat) stay open to every visitor. Each socket is held (auth/holds.ts): it
// is dropped as soon as its credential no longer admits it (the token rotated, its member removed).
// socket.io (with engine.io, ws and socket.io's parser, ~60 modules) loads when the first request
// for /socket.io/ comes, which then waits for it: a node no page watches never loads it.

import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server as SocketServer, Socket } from 'socket.io';
import { seedingTimeAt } from '@cascade/node/features';
import { summaryCache, type SummaryCache } from '@cascade/node/features';
import { storedTorrentDetail, torrentDetail } from '@cascade/node/features';
import type { CascadeNode } from '@cascade/node';
import type { ListEntry, MarketFeedEvent, SettingsEvent, TorrentDetailEvent, TorrentsChangesEvent, TorrentsEvent } from '@cascade/shapes';
import type { Gate } from '../auth/gate.ts';
import type { Holds } from '../auth/holds.ts';

const ROOM = 'torrent:';
/** socket.io's path (its default), as engine.io matches it: the URL's start. */
const PATH = '/socket.io/';
/** How long engine.io leaves an upgrade for another path before it ends it unanswered (its default). */
const DESTROY_UPGRADE_MS = 1000;
const HASH = /^[0-9a-fA-F]{40}$/;
/** Pokes closer together than this (a burst of adds) share one send. */
const POKE_GAP_MS = 50;
/** One full list per socket per this long at most, however often it asks. */
const RESYNC_GAP_MS = 1000;

export class LiveFeed {
  readonly #server: HttpServer;
  readonly #gate: Gate;
  readonly #holds: Holds;
  readonly #node: CascadeNode;
  readonly #intervalMs: number;
  #io: SocketServer | undefined;
  #loading: Promise<SocketServer> | undefined;
  /** Called with the socket.io server when it is made (withIo). */
  readonly #onIo: ((io: SocketServer) => void)[] = [];
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #poke: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #lastPokeSend = 0;
  /** The cache generation every connected client has (undefined while nobody is connected). */
  #sent: number | undefined;

  readonly #offSettings: () => void;

  constructor(server: HttpServer, node: CascadeNode, gate: Gate, holds: Holds, opts: { intervalMs?: number } = {}) {
    this.#server = server;
    this.#gate = gate;
    this.#holds = holds;
    this.#node = node;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#offSettings = node.model.settings.onChange((_next, _prev, changed) => {
      if (changed.length === 0 || this.#clients() === 0) return;
      const e: SettingsEvent = node.model.getSettings();
      this.#io!.local.emit('settings', e);
    });
    this.#intercept(server);
  }

  /** The socket.io server, once the first request for it (or load()) made it. */
  get io(): SocketServer | undefined {
    return this.#io;
  }

  /** Runs `fn` with the socket.io server as soon as it is made (at once if it is), before it
   *  handles any request: another namespace (the chat's) is there for the first client. */
  withIo(fn: (io: SocketServer) => void): void {
    if (this.#io) fn(this.#io);
    else this.#onIo.push(fn);
  }

  /** Makes the socket.io server now, if not made yet (a cluster member's Redis adapter). */
  load(): Promise<SocketServer> {
    return (this.#loading ??= this.#make());
  }

  /**
   * Requests for /socket.io/ wait for socket.io, loaded by the first. Once made, socket.io (engine.io)
   * puts its own listeners in front of these and takes its requests and upgrades itself; until then,
   * an upgrade for another path is left alone for a second and then ended if nothing answered it, as
   * engine.io does (the tracker's WebSocket announces at /announce answer it: routes/announce.ts).
   */
  #intercept(server: HttpServer): void {
    const listeners = server.listeners('request').slice() as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.#io === undefined && req.url?.startsWith(PATH)) {
        this.load().then(
          (io) => (this.#closed ? res.destroy() : io.engine.handleRequest(req, res)),
          () => res.destroy(),
        );
        return;
      }
      for (const listener of listeners) listener.call(server, req, res);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.#io !== undefined) return;
      if (req.url?.startsWith(PATH)) {
        this.load().then(
          (io) => (this.#closed ? socket.destroy() : io.engine.handleUpgrade(req, socket, head)),
          () => socket.destroy(),
        );
        return;
      }
      socket.on('error', () => {});
      setTimeout(() => {
        if (socket.writable && (socket as Duplex & { bytesWritten: number }).bytesWritten <= 0) socket.end();
      }, DESTROY_UPGRADE_MS);
    });
  }

  async #make(): Promise<SocketServer> {
    const [{ Server }, { depthLimitedParser }] = await Promise.all([import('socket.io'), import('./socket-parser.ts')]);
    const gate = this.#gate;
    const holds = this.#holds;
    const io = new Server(this.#server, {
      serveClient: false,
      parser: depthLimitedParser,
      // Host and Origin for every namespace (a WebSocket upgrade is a GET: say it changes state).
      allowRequest: (req, cb) => {
        gate.admit({ headers: req.headers, method: 'POST' }, 'public').then(
          (r) => cb(null, !('status' in r)),
          () => cb(null, false),
        );
      },
    });
    io.use((socket, next) => {
      gate.admit(socket.request, 'viewer').then(
        (r) => ('status' in r ? next(Object.assign(new Error(r.message), { data: { statusCode: r.status } })) : next()),
        (err: unknown) => next(err instanceof Error ? err : new Error(String(err))),
      );
    });
    io.on('connection', (socket) => {
      socket.on('disconnect', holds.hold(socket.request, 'viewer', () => socket.disconnect(true)));
      this.#sendList(socket);
      this.#startTimer();
      let lastResync = 0;
      let pendingResync: NodeJS.Timeout | undefined;
      socket.on('torrents:resync', () => {
        if (pendingResync) return;
        const wait = lastResync + RESYNC_GAP_MS - Date.now();
        const send = () => {
          pendingResync = undefined;
          lastResync = Date.now();
          if (socket.connected) this.#sendList(socket);
        };
        if (wait <= 0) send();
        else pendingResync = setTimeout(send, wait);
      });
      socket.on('disconnect', () => clearTimeout(pendingResync));
      socket.on('subscribe', (hash: unknown) => {
        if (typeof hash !== 'string' || !HASH.test(hash)) return;
        const ih = hash.toLowerCase();
        void socket.join(ROOM + ih);
        socket.emit(ROOM + ih, this.#detail(ih));
      });
      socket.on('unsubscribe', (hash: unknown) => {
        if (typeof hash === 'string') void socket.leave(ROOM + hash.toLowerCase());
      });
    });
    this.#io = io;
    for (const fn of this.#onIo.splice(0)) fn(io);
    if (this.#closed) this.#closeIo(io);
    return io;
  }

  /** Sockets connected (none before socket.io is loaded). */
  #clients(): number {
    return this.#io?.engine.clientsCount ?? 0;
  }

  get #cache(): SummaryCache {
    return summaryCache(this.#node);
  }

  /**
   * Something changed (added, removed, paused…): send it within this turn of the event loop — or,
   * in a burst of pokes, within POKE_GAP_MS of the last send (one pass over the rows per burst).
   */
  poke(): void {
    if (this.#poke || this.#clients() === 0) return;
    const wait = this.#lastPokeSend + POKE_GAP_MS - Date.now();
    const run = () => {
      this.#poke = undefined;
      this.#lastPokeSend = Date.now();
      this.#tick();
    };
    this.#poke = wait > 0 ? setTimeout(run, wait) : setImmediate(run);
  }

  /** A market listing or order of this node as it is now (issue 62): pushed as it changes. */
  market(e: MarketFeedEvent): void {
    if (this.#clients() > 0) this.#io!.local.emit('market', e);
  }

  /** The whole list to one socket; the first client sets where changes count from. */
  #sendList(socket: Socket): void {
    try {
      const cache = this.#cache;
      cache.refresh();
      if (this.#sent === undefined) {
        this.#sent = cache.generation;
        cache.sentUpTo(cache.generation);
      }
      const list: TorrentsEvent = { torrents: fresh(cache.rows(), Date.now()) };
      socket.emit('torrents', list);
    } catch {
      // Node shutting down underneath us (DB closed).
    }
  }

  /** null once the torrent is gone from the library; one stored but not running here (another
   *  member of a cluster holds it, or it failed to load) is what the library knows of it, as the
   *  GET route answers, not a removal. */
  #detail(ih: string): TorrentDetailEvent {
    const t = this.#node.session.get(ih);
    if (t) return torrentDetail(this.#node, t);
    const rec = this.#node.db.getTorrent(ih);
    return rec ? storedTorrentDetail(this.#node, rec) : null;
  }

  #startTimer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  #tick(): void {
    const io = this.#io;
    if (io === undefined || io.engine.clientsCount === 0) {
      // Nobody to tell: no timer, and the next client starts from a full list.
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#sent = undefined;
      return;
    }
    try {
      const cache = this.#cache;
      cache.refresh();
      const { updated, removed, generation } = cache.changesSince(this.#sent ?? cache.generation);
      this.#sent = generation;
      if (updated.length > 0 || removed.length > 0) {
        const changes: TorrentsChangesEvent = { updated: fresh(updated, Date.now()), removed };
        io.local.emit('torrents:changes', changes);
      }
      for (const room of io.of('/').adapter.rooms.keys()) {
        if (room.startsWith(ROOM)) io.local.to(room).emit(room, this.#detail(room.slice(ROOM.length)));
      }
    } catch {
      // Node shutting down underneath us (DB closed): the next tick, if any, tries again.
    }
  }

  /** Disconnects clients; the HTTP server itself is closed by its owner. */
  close(): void {
    this.#closed = true;
    this.#offSettings();
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#poke) {
      clearTimeout(this.#poke as NodeJS.Timeout);
      clearImmediate(this.#poke as NodeJS.Immediate);
      this.#poke = undefined;
    }
    if (this.#io) this.#closeIo(this.#io);
  }

  #closeIo(io: SocketServer): void {
    io.local.disconnectSockets(true);
    io.engine.close();
  }
}

/** Rows with their seeding time as of `now` (cached rows hold it as of when they were built). */
function fresh(rows: ListEntry[], now: number): ListEntry[] {
  return rows.map((e) => (e.seedingTimeOrigin === null ? e : { ...e, seedingTime: seedingTimeAt(e, now) }));
}
