// uTP (BEP 29) against libtorrent with its TCP turned off both ways, so every byte crosses uTP:
// libtorrent downloads from a Cascade seeder (Cascade accepts uTP) and seeds to a Cascade
// downloader (Cascade dials uTP), byte for byte; once with MSE forced (RC4 over uTP).
// A stream of hostile datagrams (bad headers, wrong version, window lies, sequence wraps, a SYN
// flood, unknown connection ids, truncated extension chains) neither crashes nor stalls the node.
// One libtorrent process serves every subtest.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Session, createTorrent } from '../index.ts';
import { tmpDir, whenDone } from './session-helpers.ts';
import { ST_DATA, ST_FIN, ST_RESET, ST_STATE, ST_SYN, decodePacket, encodePacket, type UtpHeader, type UtpPacket } from '../src/utp/packet.ts';

/** The shared libtorrent: commands in, lines out (lt_utp.py). */
class Lt {
  private readonly proc = spawn('/usr/bin/python3', [fileURLToPath(new URL('./lt_utp.py', import.meta.url))], { stdio: ['pipe', 'pipe', 'inherit'] });
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  port = 0;
  constructor() {
    readline.createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async ready(): Promise<void> {
    this.port = Number((await this.next((l) => l.startsWith('port '))).slice(5));
  }
  send(cmd: string): void {
    this.proc.stdin.write(cmd + '\n');
  }
  /** The first line (kept or to come) that passes `pred`, taken off the list. */
  async next(pred: (l: string) => boolean, ms = 30_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.lines.findIndex(pred);
      if (i >= 0) return this.lines.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`libtorrent said: ${this.lines.join(' | ')}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 500);
      });
    }
  }
  close(): void {
    this.proc.stdin.end();
    this.proc.kill();
  }
}

let shared: Lt | undefined;
async function lt(): Promise<Lt> {
  if (!shared) {
    shared = new Lt();
    await shared.ready();
  }
  return shared;
}
after(() => shared?.close());

async function fixture(t: { after: (fn: () => unknown) => void }, size = 1_500_000) {
  const root = await tmpDir(t, undefined, 'cascade-utp-');
  await fs.mkdir(path.join(root, 'seed'));
  const payload = randomBytes(size);
  await fs.writeFile(path.join(root, 'seed', 'data.bin'), payload);
  const { torrent, metainfo } = await createTorrent(path.join(root, 'seed', 'data.bin'), { pieceLength: 64 * 1024 });
  const torrentPath = path.join(root, 'data.torrent');
  await fs.writeFile(torrentPath, torrent);
  return { root, payload, torrent, torrentPath, infoHash: metainfo.infoHashHex };
}

test('libtorrent over uTP only downloads from a Cascade seeder', async (t) => {
  const f = await fixture(t);
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const seed = await session.add(f.torrent, { savePath: path.join(f.root, 'seed') });
  await whenDone(seed);
  const l = await lt();
  l.send(`fetch ${f.torrentPath} ${path.join(f.root, 'lt')} 127.0.0.1:${session.port}`);
  await l.next((s) => s === `done ${f.infoHash}`);
  assert.ok((await fs.readFile(path.join(f.root, 'lt', 'data.bin'))).equals(f.payload));
  assert.ok(session.counters().bytesSent.utp >= f.payload.length, JSON.stringify(session.counters().bytesSent));
  assert.equal(session.counters().bytesSent.tcp, 0);
});

test('a Cascade downloader gets a torrent from libtorrent over uTP only', async (t) => {
  const f = await fixture(t);
  const l = await lt();
  l.send(`seed ${f.torrentPath} ${path.join(f.root, 'seed')}`);
  await l.next((s) => s === `seeding ${f.infoHash}`);
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => session.close());
  const h = await session.add(f.torrent, { savePath: path.join(f.root, 'dl'), peers: [`127.0.0.1:${l.port}`] });
  await whenDone(h);
  assert.ok((await fs.readFile(path.join(f.root, 'dl', 'data.bin'))).equals(f.payload));
  assert.ok(session.counters().bytesReceived.utp >= f.payload.length);
  assert.equal(session.counters().bytesReceived.tcp, 0);
});

test('MSE (RC4 forced by libtorrent) runs over uTP both ways', async (t) => {
  const f = await fixture(t);
  const g = await fixture(t);
  const l = await lt();
  l.send('encryption forced');
  await l.next((s) => s === 'ok');
  t.after(() => l.send('encryption enabled'));
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, encryption: 'require' });
  t.after(() => session.close());
  // libtorrent fetches f from Cascade, and seeds g to it.
  const seed = await session.add(f.torrent, { savePath: path.join(f.root, 'seed') });
  await whenDone(seed);
  l.send(`seed ${g.torrentPath} ${path.join(g.root, 'seed')}`);
  await l.next((s) => s === `seeding ${g.infoHash}`);
  l.send(`fetch ${f.torrentPath} ${path.join(f.root, 'lt')} 127.0.0.1:${session.port}`);
  const h = await session.add(g.torrent, { savePath: path.join(g.root, 'dl'), peers: [`127.0.0.1:${l.port}`] });
  await Promise.all([l.next((s) => s === `done ${f.infoHash}`), whenDone(h)]);
  assert.ok((await fs.readFile(path.join(f.root, 'lt', 'data.bin'))).equals(f.payload));
  assert.ok((await fs.readFile(path.join(g.root, 'dl', 'data.bin'))).equals(g.payload));
  assert.equal(session.counters().bytesReceived.tcp + session.counters().bytesSent.tcp, 0);
});

/** One hostile datagram of the i-th kind (see the test below). */
function hostile(i: number, realId: number, seq: number): Uint8Array {
  const h = (type: UtpHeader['type'], extra: Partial<UtpHeader> = {}): UtpHeader => ({ type, connectionId: 0x7777, timestamp: i, timestampDiff: 0, window: 1 << 20, seq: i & 0xffff, ack: i & 0xffff, ...extra });
  const junk = randomBytes(i % 60);
  switch (i % 10) {
    case 0:
      return junk; // short or random
    case 1: {
      const p = encodePacket(h(ST_DATA), junk);
      p[0] = (ST_DATA << 4) | 2; // wrong version
      return p;
    }
    case 2: {
      const p = encodePacket(h(ST_STATE));
      p[0] = (7 << 4) | 1; // no such type
      return p;
    }
    case 3: {
      const p = encodePacket(h(ST_DATA, { connectionId: realId }), new Uint8Array(2));
      p[1] = 1; // a selective ACK is announced, 200 bytes long; 2 follow
      p[21] = 200;
      return p;
    }
    case 4: {
      const p = new Uint8Array(20 + 60);
      p.set(encodePacket(h(ST_STATE, { connectionId: realId })));
      p[1] = 9;
      for (let k = 20; k < 80; k += 2) p[k] = 9; // 30 chained unknown extensions
      return p;
    }
    case 5:
      return encodePacket(h([ST_DATA, ST_STATE, ST_FIN, ST_RESET][i % 4] as UtpHeader['type'], { connectionId: (i * 7919) & 0xffff })); // no such connection
    case 6:
      return encodePacket(h(ST_SYN, { connectionId: (i * 104729) & 0xffff })); // SYN flood
    case 7: // window lies and acks of nothing on the real connection
      return encodePacket(h(ST_STATE, { connectionId: realId, window: i % 20 === 7 ? 0 : 0xffffffff, ack: (i * 31) & 0xffff, sack: randomBytes(32) }));
    case 8: // data across the sequence wrap, and far ahead of it
      return encodePacket(h(ST_DATA, { connectionId: realId, seq: (seq + (i % 30 === 8 ? 5000 : (i / 10) | 0)) & 0xffff, window: 0 }), junk);
    default:
      return encodePacket(h(ST_FIN, { connectionId: realId, seq: (seq + 40000) & 0xffff }));
  }
}

test('hostile uTP datagrams crash and stall nothing: a real transfer completes during and after', async (t) => {
  const f = await fixture(t, 3_000_000);
  const g = await fixture(t);
  const l = await lt();
  l.send(`seed ${f.torrentPath} ${path.join(f.root, 'seed')}`);
  await l.next((s) => s === `seeding ${f.infoHash}`);
  // Half-open connections of the flood give their slots back quickly.
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, handshakeTimeoutMs: 1500 });
  t.after(() => session.close());
  const raw = dgram.createSocket('udp4');
  // From another loopback address: the flood fills that host's connection slots, not libtorrent's.
  await new Promise<void>((r) => raw.bind(0, '127.0.0.2', () => r()));
  t.after(() => raw.close());
  const replies: UtpPacket[] = [];
  raw.on('message', (m) => {
    const p = decodePacket(m);
    if (typeof p !== 'string') replies.push(p);
  });
  const send = (b: Uint8Array) => raw.send(b, session.port, '127.0.0.1');
  // One real connection from the raw socket, its SYN just before the sequence wrap.
  const synId = 0x4000;
  send(encodePacket({ type: ST_SYN, connectionId: synId, timestamp: 0, timestampDiff: 0, window: 1 << 20, seq: 0xfffe, ack: 0 }));
  while (!replies.some((p) => p.type === ST_STATE && p.connectionId === synId)) await new Promise((r) => setTimeout(r, 10));
  let stop = false;
  let sent = 0;
  const attack = (async () => {
    for (let i = 0; !stop; ) {
      for (let k = 0; k < 20; k++, i++) send(hostile(i, synId + 1, 0xffff));
      sent += 20;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const h = await session.add(f.torrent, { savePath: path.join(f.root, 'dl'), peers: [`127.0.0.1:${l.port}`] });
  await whenDone(h);
  stop = true;
  await attack;
  assert.ok((await fs.readFile(path.join(f.root, 'dl', 'data.bin'))).equals(f.payload));
  const c = session.counters().utp!;
  assert.ok(sent > 200 && c.dropped > sent / 3, `hostile datagrams: ${sent} sent, counters ${JSON.stringify(c)}`);
  // After the storm: libtorrent gets another torrent from the node, dialling in over uTP.
  const seed = await session.add(g.torrent, { savePath: path.join(g.root, 'seed') });
  await whenDone(seed);
  l.send(`fetch ${g.torrentPath} ${path.join(g.root, 'lt')} 127.0.0.1:${session.port}`);
  await l.next((s) => s === `done ${g.infoHash}`);
  assert.ok((await fs.readFile(path.join(g.root, 'lt', 'data.bin'))).equals(g.payload));
});

test('a SYN flood from one address leaves incoming uTP open to every other address', async (t) => {
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, handshakeTimeoutMs: 1500 });
  t.after(() => session.close());
  const socketAt = async (host: string) => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, host, () => r()));
    t.after(() => s.close());
    const states = new Set<number>();
    s.on('message', (m) => {
      const p = decodePacket(m);
      if (typeof p !== 'string' && p.type === ST_STATE) states.add(p.connectionId);
    });
    return { send: (b: Uint8Array) => s.send(b, session.port, '127.0.0.1'), states };
  };
  const syn = (connectionId: number) => encodePacket({ type: ST_SYN, connectionId, timestamp: 0, timestampDiff: 0, window: 1 << 20, seq: 1, ack: 0 });
  const flooder = await socketAt('127.0.0.2');
  const peer = await socketAt('127.0.0.3');
  // More SYNs than the socket accepts in a second, all from one address, then one from another.
  for (let i = 0; i < 400; i++) flooder.send(syn(i * 2));
  await new Promise((r) => setTimeout(r, 50));
  peer.send(syn(0x7000));
  for (let i = 0; i < 100 && !peer.states.has(0x7000); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(peer.states.has(0x7000), 'the other address got no answer to its SYN');
  const c = session.counters().utp!;
  assert.ok(flooder.states.size < 400 && c.synDropped >= 400 - flooder.states.size, `flooder answered ${flooder.states.size} times, counters ${JSON.stringify(c)}`);
});

test('utp: false is TCP only; a uTP-first dialler reaches it over TCP at once (its UDP port is shut)', async (t) => {
  const f = await fixture(t, 300_000);
  const tcpOnly = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, utp: false });
  t.after(() => tcpOnly.close());
  assert.equal(tcpOnly.counters().utp, undefined, 'no uTP socket');
  const seed = await tcpOnly.add(f.torrent, { savePath: path.join(f.root, 'seed') });
  await whenDone(seed);
  const dialler = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => dialler.close());
  const h = await dialler.add(f.torrent, { savePath: path.join(f.root, 'dl'), peers: [`127.0.0.1:${tcpOnly.port}`] });
  await whenDone(h);
  assert.ok((await fs.readFile(path.join(f.root, 'dl', 'data.bin'))).equals(f.payload));
  const got = dialler.counters().bytesReceived;
  assert.ok(got.tcp >= f.payload.length && got.utp === 0, JSON.stringify(got));
});

test("utp: 'only' dials over uTP alone: a TCP-only peer is never reached, a uTP one is, and TCP is still accepted", async (t) => {
  const f = await fixture(t, 300_000);
  const tcpOnly = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, utp: false });
  t.after(() => tcpOnly.close());
  const both = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false });
  t.after(() => both.close());
  for (const s of [tcpOnly, both]) await whenDone(await s.add(f.torrent, { savePath: path.join(f.root, 'seed') }));
  const utpOnly = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, utp: 'only' });
  t.after(() => utpOnly.close());
  // Local addresses would go TCP first under the default policy: 'only' must not.
  const h = await utpOnly.add(f.torrent, { savePath: path.join(f.root, 'dl'), peers: [`127.0.0.1:${tcpOnly.port}`, `127.0.0.1:${both.port}`] });
  await whenDone(h);
  assert.ok((await fs.readFile(path.join(f.root, 'dl', 'data.bin'))).equals(f.payload));
  const got = utpOnly.counters().bytesReceived;
  assert.ok(got.utp >= f.payload.length && got.tcp === 0, JSON.stringify(got));
  assert.equal(tcpOnly.counters().bytesSent.tcp, 0, 'the TCP-only seed was never reached');
  // Incoming TCP still accepted: a TCP-only node dials the uTP-only one and gets the pieces.
  const tcpLeech = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, utp: false });
  t.after(() => tcpLeech.close());
  await whenDone(await tcpLeech.add(f.torrent, { savePath: path.join(f.root, 'dl2'), peers: [`127.0.0.1:${utpOnly.port}`] }));
  assert.ok(utpOnly.counters().bytesSent.tcp >= f.payload.length, JSON.stringify(utpOnly.counters().bytesSent));
});
