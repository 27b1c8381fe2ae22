// The portable UDP transport: node:dgram, one 'message' event per datagram, replies batched per
// event-loop turn (udp-replies.ts).

import dgram from 'node:dgram';
import { once } from 'node:events';
import { isIP } from 'node:net';
import type { UdpHandler, UdpRemote, UdpTransport } from './transport.ts';
import { ReplyBatcher } from './udp-replies.ts';

export class DgramTransport implements UdpTransport {
  readonly io = 'dgram';
  readonly reusesBuffers = false;
  private socket: dgram.Socket | undefined;
  private replies: ReplyBatcher | undefined;
  private readonly onMessage: UdpHandler;

  constructor(onMessage: UdpHandler) {
    this.onMessage = onMessage;
  }

  async listen(port: number, host: string): Promise<void> {
    let bound = false;
    const socket = dgram.createSocket({
      type: isIP(host) === 6 ? 'udp6' : 'udp4',
      // Replies go to the address a packet came from, always an IP literal: skip dns.lookup. Until
      // bound the callback must be asynchronous: answered synchronously, bind() emits 'listening'
      // before anyone waits for it (Node 24). After that, every send() goes through here, and a
      // synchronous answer saves a deferred call per reply.
      lookup: (address, _opts, cb) => {
        const done = cb as (e: null, a: string, f: number) => void;
        if (bound) done(null, address, address.includes(':') ? 6 : 4);
        else process.nextTick(() => done(null, address, address.includes(':') ? 6 : 4));
      },
    });
    socket.on('message', this.onMessage as (msg: Buffer, r: dgram.RemoteInfo) => void);
    const listening = once(socket, 'listening');
    socket.bind(port, host);
    try {
      await listening;
    } catch (err) {
      socket.close();
      throw err;
    }
    bound = true;
    // Errors after the bind (a send to an unroutable address) concern one datagram.
    socket.on('error', noop);
    this.socket = socket;
    this.replies = new ReplyBatcher(socket);
  }

  address(): { address: string; port: number } {
    return this.socket!.address();
  }

  send(buf: Buffer, length: number, to: UdpRemote): void {
    this.replies?.send(buf, length, to.port, to.address);
  }

  close(): Promise<void> {
    const s = this.socket;
    if (!s) return Promise.resolve();
    this.socket = undefined;
    this.replies?.flush();
    return new Promise<void>((r) => s.close(() => r()));
  }
}

function noop(): void {}
