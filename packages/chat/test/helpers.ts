// Test helpers: a socket.io server with attachChat on 127.0.0.1, and ChatClients over socket.io-client.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io as ioClient, type Socket } from 'socket.io-client';
import { attachChat, type AttachChatOptions, type ChatServer } from '../server.ts';
import { ChatClient, type ChatClientOptions } from '../src/client/client.ts';
import type { Identity } from '../src/wire/identity.ts';

export interface TestChatServer {
  url: string;
  logs: string[];
  chat: ChatServer;
  io: Server;
  close(): Promise<void>;
}

export async function startChatServer(o: Omit<AttachChatOptions, 'log'> & { port?: number }): Promise<TestChatServer> {
  const http: HttpServer = createServer();
  const io = new Server(http, { serveClient: false });
  const logs: string[] = [];
  const chat = attachChat(io, { ...o, log: (l) => logs.push(l) });
  await new Promise<void>((r) => http.listen(o.port ?? 0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url, logs, chat, io,
    async close() {
      chat.close();
      await new Promise<void>((r) => io.close(() => r()));
      http.closeAllConnections?.();
    },
  };
}

export function rawSocket(url: string): Socket {
  return ioClient(`${url}/chat`, { transports: ['websocket'], reconnection: false, forceNew: true });
}

/** Clients started by startClient; closeClients() ends those a failing test left behind. */
export const openClients = new Set<ChatClient>();
export function closeClients(): void {
  for (const c of openClients) c.close();
  openClients.clear();
}

export async function startClient(url: string, identity: Identity, o: Partial<ChatClientOptions> = {}): Promise<ChatClient> {
  const socket = ioClient(`${url}/chat`, { transports: ['websocket'], autoConnect: false, forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 500 });
  const c = new ChatClient({ identity, socket, rtc: null, ...o });
  openClients.add(c);
  c.on('ready', () => {});
  await c.start();
  return c;
}

export async function until<T>(fn: () => T | undefined | false | null, what: string, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function emitAck<T = any>(s: Socket, ev: string, arg: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${ev}: no ack`)), 5000);
    s.emit(ev, arg, (r: T) => {
      clearTimeout(t);
      resolve(r);
    });
  });
}

export function texts(c: ChatClient, conv: string): string[] {
  return c.conversations.get(conv)?.messages.map((m) => m.text) ?? [];
}
