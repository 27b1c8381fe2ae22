// Live updates over socket.io, on the API's own HTTP server.
//   server → client  `torrents`        {torrents: TorrentSummary[]}  every second, and right after a change
//   client → server  `subscribe`       infoHash   (also `unsubscribe`)
//   server → client  `torrent:<hash>`  TorrentDetail every second to subscribers, or null once removed
// Work is only done for connected clients, and details only for torrents someone watches.
// The torrent feed is the node's private state: only members (and the token) connect to it; other
// namespaces (the chat's /chat) stay open to every visitor.

import type { Server as HttpServer } from 'node:http';
import { Server as SocketServer } from 'socket.io';
import { listEntries } from './listing.ts';
import { torrentDetail } from './torrent-view.ts';
import type { CascadeNode } from './node.ts';
import type { Gate } from './auth/gate.ts';
import { depthLimitedParser } from './socket-parser.ts';

const ROOM = 'torrent:';
const HASH = /^[0-9a-fA-F]{40}$/;

export class LiveFeed {
  readonly io: SocketServer;
  readonly #node: CascadeNode;
  readonly #timer: NodeJS.Timeout;
  #poked = false;
  #ticks = 0;

  readonly #gate: Gate;

  constructor(server: HttpServer, node: CascadeNode, gate: Gate, opts: { intervalMs?: number } = {}) {
    this.#node = node;
    this.#gate = gate;
    this.io = new SocketServer(server, {
      serveClient: false,
      parser: depthLimitedParser,
      // Host and Origin for every namespace (a WebSocket upgrade is a GET: say it changes state).
      allowRequest: (req, cb) => cb(null, !('status' in gate.admit({ headers: req.headers, method: 'POST' }, 'public'))),
    });
    this.io.use((socket, next) => {
      const r = gate.admit(socket.request, 'member');
      if ('status' in r) next(Object.assign(new Error(r.message), { data: { statusCode: r.status } }));
      else next();
    });
    this.io.on('connection', (socket) => {
      socket.emit('torrents', this.#list());
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
    this.#timer = setInterval(() => this.#tick(), opts.intervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Something changed (added, removed, paused…): push within this turn of the event loop. */
  poke(): void {
    if (this.#poked) return;
    this.#poked = true;
    setImmediate(() => {
      this.#poked = false;
      this.#tick();
    });
  }

  #list(): { torrents: ReturnType<typeof listEntries> } {
    return { torrents: listEntries(this.#node) };
  }

  #detail(ih: string) {
    const t = this.#node.session.get(ih);
    return t ? torrentDetail(this.#node, t) : null;
  }

  #tick(): void {
    if (this.io.engine.clientsCount === 0) return;
    // Members removed from outside the API (`cascade users remove`) lose the feed within seconds.
    if (++this.#ticks % 5 === 0) this.recheck();
    try {
      this.io.emit('torrents', this.#list());
      for (const room of this.io.of('/').adapter.rooms.keys()) {
        if (room.startsWith(ROOM)) this.io.to(room).emit(room, this.#detail(room.slice(ROOM.length)));
      }
    } catch {
      // Node shutting down underneath us (DB closed): the next tick, if any, tries again.
    }
  }

  /** Membership or sessions changed: drop feed sockets whose caller may no longer read it. */
  recheck(): void {
    for (const socket of this.io.of('/').sockets.values()) {
      if ('status' in this.#gate.admit(socket.request, 'member')) socket.disconnect(true);
    }
  }

  /** Disconnects clients; the HTTP server itself is closed by its owner. */
  close(): void {
    clearInterval(this.#timer);
    this.io.disconnectSockets(true);
    this.io.engine.close();
  }
}
