// BEP 15 UDP tracker. Connection ids are MACs of the client's address and a time slot, so the
// server keeps no per-client state that a flood of connect packets could grow.

import dgram from 'node:dgram';
import { createHmac, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { compactPeers, normalizeIp, peerHost } from './peers.ts';
import type { SwarmStore } from './store.ts';

export interface UdpOptions {
  store: SwarmStore;
  interval: number;
  host: string;
}

const PROTOCOL_ID = 0x41727101980n;
const CONNECT = 0;
const ANNOUNCE = 1;
const SCRAPE = 2;
const ERROR = 3;
const EVENTS = [undefined, 'completed', 'started', 'stopped'] as const;
// Largest legitimate request: a scrape of 74 hashes (16 + 74*20). Anything bigger is dropped unread.
const MAX_PACKET = 16 + 74 * 20;
// Ids stay valid for this slot and the next, so for at least 2 minutes (clients reuse them for 1).
const SLOT_MS = 120_000;
const DEFAULT_NUMWANT = 50;
const MAX_NUMWANT = 200;

export function createUdpServer(opts: UdpOptions): dgram.Socket {
  const socket = dgram.createSocket({ type: isIP(opts.host) === 6 ? 'udp6' : 'udp4' });
  const secret = randomBytes(32);

  const connectionId = (addr: string, port: number, slot: number): Buffer =>
    createHmac('sha256', secret).update(`${addr}|${port}|${slot}`).digest().subarray(0, 8);

  const validConnection = (msg: Buffer, r: dgram.RemoteInfo): boolean => {
    const slot = Math.floor(Date.now() / SLOT_MS);
    const got = msg.subarray(0, 8);
    return got.equals(connectionId(r.address, r.port, slot)) || got.equals(connectionId(r.address, r.port, slot - 1));
  };

  const send = (buf: Buffer, r: dgram.RemoteInfo) => socket.send(buf, r.port, r.address, () => {});

  const error = (tid: number, message: string, r: dgram.RemoteInfo) => {
    const text = Buffer.from(message);
    const b = Buffer.alloc(8 + text.length);
    b.writeUInt32BE(ERROR, 0);
    b.writeUInt32BE(tid, 4);
    text.copy(b, 8);
    send(b, r);
  };

  const onMessage = async (msg: Buffer, r: dgram.RemoteInfo) => {
    if (msg.length < 16 || msg.length > MAX_PACKET) return;
    const action = msg.readUInt32BE(8);
    const tid = msg.readUInt32BE(12);

    if (action === CONNECT) {
      if (msg.readBigUInt64BE(0) !== PROTOCOL_ID) return;
      const b = Buffer.alloc(16);
      b.writeUInt32BE(CONNECT, 0);
      b.writeUInt32BE(tid, 4);
      connectionId(r.address, r.port, Math.floor(Date.now() / SLOT_MS)).copy(b, 8);
      return send(b, r);
    }
    if (!validConnection(msg, r)) return error(tid, 'invalid connection id', r);

    if (action === ANNOUNCE) {
      if (msg.length < 98) return error(tid, 'announce packet too short', r);
      const port = msg.readUInt16BE(96);
      const eventCode = msg.readUInt32BE(80);
      if (port === 0) return error(tid, 'invalid port', r);
      if (eventCode > 3) return error(tid, 'invalid event', r);
      const asked = msg.readInt32BE(92);
      const claimedIp = msg.readUInt32BE(84);
      const event = EVENTS[eventCode];
      const { peers, counts } = await opts.store.announce({
        infoHashHex: msg.subarray(16, 36).toString('hex'),
        peerIdHex: msg.subarray(36, 56).toString('hex'),
        host: peerHost(r.address, claimedIp ? ipv4(claimedIp) : undefined),
        port,
        left: Number(msg.readBigUInt64BE(64)),
        event,
        numwant: event === 'stopped' ? 0 : asked < 0 ? DEFAULT_NUMWANT : Math.min(asked, MAX_NUMWANT),
      });
      // BEP 15: the peer list's family is the family of the request.
      const family = isIP(normalizeIp(r.address)) === 6 ? 6 : 4;
      const list = compactPeers(peers, family);
      const b = Buffer.alloc(20 + list.length);
      b.writeUInt32BE(ANNOUNCE, 0);
      b.writeUInt32BE(tid, 4);
      b.writeUInt32BE(opts.interval, 8);
      b.writeUInt32BE(counts.incomplete, 12);
      b.writeUInt32BE(counts.complete, 16);
      list.copy(b, 20);
      return send(b, r);
    }

    if (action === SCRAPE) {
      const n = Math.floor((msg.length - 16) / 20);
      if (n === 0 || msg.length !== 16 + n * 20) return error(tid, 'malformed scrape', r);
      const b = Buffer.alloc(8 + 12 * n);
      b.writeUInt32BE(SCRAPE, 0);
      b.writeUInt32BE(tid, 4);
      for (let i = 0; i < n; i++) {
        const c = await opts.store.counts(msg.subarray(16 + 20 * i, 36 + 20 * i).toString('hex'));
        b.writeUInt32BE(c.complete, 8 + 12 * i);
        b.writeUInt32BE(c.downloaded, 12 + 12 * i);
        b.writeUInt32BE(c.incomplete, 16 + 12 * i);
      }
      return send(b, r);
    }

    error(tid, 'unknown action', r);
  };

  socket.on('message', (msg, r) => {
    onMessage(msg, r).catch(() => {
      // A store failure loses one reply; the client retransmits.
    });
  });
  socket.on('error', () => {});
  return socket;
}

function ipv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
