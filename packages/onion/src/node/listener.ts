// One port for both link kinds: a connection that starts with "GET " is a WebSocket upgrade
// (browsers, and relays that prefer WebSocket); anything else is cells over TCP.
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { CELL_SIZE } from '../protocol/cells.ts';
import type { Link } from '../protocol/link.ts';
import { socketLink } from './tcp-link.ts';
import { wsLink } from './ws-link.ts';
import { SIGNAL_PATH } from '../relay/signal.ts';
import type { SignalServer } from './signal-server.ts';

export const WS_PATH = '/onion';

export interface LinkListener {
  port: number;
  close(): Promise<void>;
}

/** `signal`: also serve tab relays' signalling at SIGNAL_PATH (src/signal.ts). */
export function listenLinks(host: string, port: number, onLink: (link: Link) => void, signal?: SignalServer): Promise<LinkListener> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: CELL_SIZE });
  const web = http.createServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('cells over WebSocket: upgrade at /onion\n'));
  web.headersTimeout = 10_000;
  web.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === SIGNAL_PATH && signal) return signal.handleUpgrade(req, socket, head);
    if (path !== WS_PATH) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      const who = `ws:${(req.socket.remoteAddress ?? '?').replace(/^::ffff:/, '')}:${req.socket.remotePort}`;
      onLink(wsLink(ws, false, who));
    });
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Nothing said within 10 s: not a client of ours.
    socket.setTimeout(10_000, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first.subarray(0, 4).toString('latin1') === 'GET ') web.emit('connection', socket);
      else onLink(socketLink(socket, false));
      socket.resume();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            for (const c of wss.clients) c.terminate();
            signal?.close();
            server.close(() => done());
          }),
      });
    });
  });
}
