// BEP 55 as a broker on loopback, against bare peers that speak the messages byte by byte: a
// rendezvous between two peers that both speak ut_holepunch becomes a connect to each (IPv4 and
// IPv6 forms); every refusal carries the BEP's error code; malformed messages get no answer and
// cost nothing; a flood of rendezvous or connects is held to a small budget; without uTP the
// extension is not advertised. (The NAT lab test proves the punch itself against libtorrent.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Session, createTorrent } from '../index.ts';
import { decode, encode, isDict } from '../src/encoding/bencode.ts';
import { encodeExtended, encodeHandshake, MSG } from '../src/wire/protocol.ts';
import { decodeHolepunch, encodeHolepunch, HP_CONNECT, HP_ERR, HP_ERROR, HP_RENDEZVOUS, type HolepunchMessage } from '../src/wire/holepunch.ts';
import { crossedDrop } from '../src/swarm/admission.ts';
import { ASK_AFTER_FAILURE_MS, Holepunch } from '../src/swarm/holepunch.ts';
import type { Peer } from '../src/swarm/peer.ts';
import { PEX_FLAG } from '../src/wire/extended.ts';
import { tmpDir } from './session-helpers.ts';

/** Our id for ut_holepunch in the bare peer's handshake (what the broker must use to write to it). */
const HP_ID = 9;

class BarePeer {
  readonly sock: net.Socket;
  ext: Record<string, unknown> | undefined;
  readonly got: HolepunchMessage[] = [];
  private buf = Buffer.alloc(0);
  private shook = false;
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(port: number, infoHash: Uint8Array, opts: { holepunch: boolean; listenPort: number }) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('error', () => {});
    this.sock.on('close', () => ((this.closed = true), this.wake()));
    this.sock.write(encodeHandshake(infoHash, randomBytes(20), { extended: true, fast: false, dht: false, v2: false }));
    this.sock.write(encodeExtended(0, encode({ m: opts.holepunch ? { ut_holepunch: HP_ID } : { ut_pex: 3 }, p: opts.listenPort })));
    this.sock.on('data', (d: Buffer) => this.read(d));
  }

  private read(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.shook) {
      if (this.buf.length < 68) return;
      this.buf = this.buf.subarray(68);
      this.shook = true;
    }
    while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32BE(0)) {
      const m = this.buf.subarray(4, 4 + this.buf.readUInt32BE(0));
      this.buf = this.buf.subarray(4 + m.length);
      if (m.length < 2 || m[0] !== MSG.extended) continue;
      if (m[1] === 0) {
        const h = decode(m.subarray(2)).value;
        if (isDict(h)) this.ext = h;
      } else if (m[1] === HP_ID) {
        const hp = decodeHolepunch(m.subarray(2));
        assert.ok(hp, 'the broker sent a well-formed ut_holepunch message');
        this.got.push(hp);
      }
    }
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms: ${JSON.stringify(this.got)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Sends a ut_holepunch payload with the broker's id for it. */
  send(payload: Uint8Array): void {
    const id = (this.ext?.m as Record<string, number>).ut_holepunch!;
    this.sock.write(encodeExtended(id, payload));
  }

  rendezvous(host: string, port: number): void {
    this.send(encodeHolepunch({ type: HP_RENDEZVOUS, addr: { host, port }, error: 0 }));
  }
}

async function broker(t: { after: (fn: () => unknown) => void }, opts: { utp?: false } = {}) {
  const root = await tmpDir(t, undefined, 'cascade-hp-unit-');
  await fs.writeFile(path.join(root, 'a.bin'), randomBytes(100_000));
  const { torrent, metainfo } = await createTorrent(path.join(root, 'a.bin'), { pieceLength: 16384 });
  const session = await Session.create({ host: '127.0.0.1', dht: false, webrtc: false, ...opts });
  t.after(() => session.close());
  await session.add(torrent, { savePath: root });
  const infoHash = Uint8Array.from(Buffer.from(metainfo.infoHashHex, 'hex'));
  const peers: BarePeer[] = [];
  t.after(() => peers.forEach((p) => p.sock.destroy()));
  const join = async (holepunch: boolean, listenPort: number) => {
    const p = new BarePeer(session.port, infoHash, { holepunch, listenPort });
    peers.push(p);
    await p.until(() => !!p.ext, 'extended handshake');
    return p;
  };
  return { session, join };
}

test('a rendezvous between two peers that speak ut_holepunch becomes a connect to each, naming the other', async (t) => {
  const { session, join } = await broker(t);
  const a = await join(true, 40001);
  const b = await join(true, 40002);
  assert.equal((a.ext!.m as Record<string, number>).ut_holepunch, 3, 'ut_holepunch advertised in the extended handshake');
  // B dialled us over TCP: the broker knows it by its listen port (BEP 10 `p`).
  a.rendezvous('127.0.0.1', 40002);
  await a.until(() => a.got.length > 0, 'connect to A');
  await b.until(() => b.got.length > 0, 'connect to B');
  assert.deepEqual(a.got[0], { type: HP_CONNECT, addr: { host: '127.0.0.1', port: 40002 }, error: 0 });
  assert.deepEqual(b.got[0], { type: HP_CONNECT, addr: { host: '127.0.0.1', port: 40001 }, error: 0 });
  const c = session.counters().holepunch!;
  assert.equal(c.rendezvousReceived, 1);
  assert.equal(c.introduced, 1);
});

test('refusals carry the BEP 55 error codes; malformed messages get no answer and the peer stays', async (t) => {
  const { session, join } = await broker(t);
  const a = await join(true, 40001);
  await join(false, 40003); // connected, but without ut_holepunch
  const d = await join(true, 40004);
  const ask = async (p: BarePeer, host: string, port: number) => {
    const n = p.got.length;
    p.rendezvous(host, port);
    await p.until(() => p.got.length > n, `an answer about ${host}:${port}`);
    return p.got[n]!;
  };
  assert.deepEqual(await ask(a, '127.0.0.1', 40003), { type: HP_ERROR, addr: { host: '127.0.0.1', port: 40003 }, error: HP_ERR.noSupport });
  assert.deepEqual(await ask(a, '127.0.0.1', 40001), { type: HP_ERROR, addr: { host: '127.0.0.1', port: 40001 }, error: HP_ERR.noSelf });
  assert.deepEqual(await ask(a, '127.0.0.1', 1), { type: HP_ERROR, addr: { host: '127.0.0.1', port: 1 }, error: HP_ERR.notConnected });
  assert.deepEqual(await ask(a, '0.0.0.0', 6881), { type: HP_ERROR, addr: { host: '0.0.0.0', port: 6881 }, error: HP_ERR.noSuchPeer });
  // The IPv6 form (addr_type 1, 16 bytes) is read and answered in kind.
  assert.deepEqual(await ask(d, '::1', 40002), { type: HP_ERROR, addr: { host: '::1', port: 40002 }, error: HP_ERR.notConnected });
  assert.deepEqual(await ask(d, 'fd00::7', 0), { type: HP_ERROR, addr: { host: 'fd00::7', port: 0 }, error: HP_ERR.noSuchPeer });
  // Malformed: empty, one byte, an unknown address type or message type, truncated addresses, an
  // error without its code. None is answered; none closes the connection or costs a budget.
  const before = d.got.length;
  for (const bad of ['', '00', '0007 7f000001 1f40', '0900 7f000001 1f40', '0000 7f00', '0001 00000000000000000000000000000001', '0200 7f000001 1f40']) {
    d.send(Buffer.from(bad.replace(/ /g, ''), 'hex'));
  }
  assert.deepEqual(await ask(d, '127.0.0.1', 40001), { type: HP_CONNECT, addr: { host: '127.0.0.1', port: 40001 }, error: 0 });
  assert.equal(d.got.length, before + 1);
  assert.ok(!d.closed);
  assert.equal(session.counters().holepunch!.ignored, 7);
});

test('a flood of rendezvous or connects from one peer is held to a small budget', async (t) => {
  const { session, join } = await broker(t);
  const a = await join(true, 40001);
  await join(true, 40002);
  for (let i = 0; i < 50; i++) a.rendezvous('127.0.0.1', i % 2 ? 40002 : 1);
  // Connects naming 30 addresses of ours: each would be a uTP dial.
  for (let i = 0; i < 30; i++) a.send(encodeHolepunch({ type: HP_CONNECT, addr: { host: '127.0.0.1', port: 20000 + i }, error: 0 }));
  await a.until(() => session.counters().holepunch!.ignored >= 45 + 27, 'the flood counted');
  const c = session.counters().holepunch!;
  assert.ok(c.rendezvousReceived <= 6, `at most the burst of 5 (and one refill) acted on: ${JSON.stringify(c)}`);
  assert.ok(a.got.length <= 6, `answers: ${a.got.length}`);
  assert.ok(c.dials <= 3, `at most 3 dials a broker can make us start: ${JSON.stringify(c)}`);
  assert.ok(!a.closed);
});

test('without uTP, ut_holepunch is not advertised', async (t) => {
  const { join } = await broker(t, { utp: false });
  const a = await join(false, 40001);
  const m = a.ext!.m as Record<string, number>;
  assert.ok(m.ut_metadata && !('ut_holepunch' in m), JSON.stringify(Object.keys(m)));
});

test('two crossed uTP connections: both ends keep the same one (libtorrent\'s rule: the lower port keeps what it dialled)', () => {
  const side = (outgoing: boolean, key: string, transport = 'utp', remoteId?: Uint8Array) => ({ conn: { transport }, outgoing, key, remoteId });
  const idA = new Uint8Array(20).fill(1);
  const idB = new Uint8Array(20).fill(2);
  // A (port 6882) and B (port 6883) each hold one connection dialled by each: A→B and B→A.
  const atA = { dialled: side(true, '198.18.0.103:6883'), accepted: side(false, '198.18.0.103:6883', 'utp', idB) };
  const atB = { dialled: side(true, '198.18.0.102:6882'), accepted: side(false, '198.18.0.102:6882', 'utp', idA) };
  // A has the lower port: A keeps the one it dialled, B keeps the one it accepted (the same one).
  assert.equal(crossedDrop(atA.dialled, atA.accepted, 6882, idA), atA.accepted);
  assert.equal(crossedDrop(atB.accepted, atB.dialled, 6883, idB), atB.dialled);
  // Equal ports (both NATs kept 6881): the lower peer id keeps what it dialled, on both ends.
  const eqA = { dialled: side(true, '198.18.0.103:6881'), accepted: side(false, '198.18.0.103:6881', 'utp', idB) };
  const eqB = { dialled: side(true, '198.18.0.102:6881'), accepted: side(false, '198.18.0.102:6881', 'utp', idA) };
  assert.equal(crossedDrop(eqA.dialled, eqA.accepted, 6881, idA), eqA.accepted);
  assert.equal(crossedDrop(eqB.dialled, eqB.accepted, 6881, idB), eqB.dialled);
  // Not a crossed pair: TCP beside uTP, or both dialled by us.
  assert.equal(crossedDrop(side(true, 'x:1', 'tcp'), side(false, 'x:1'), 2, idA), undefined);
  assert.equal(crossedDrop(side(true, 'x:1'), side(true, 'x:1'), 2, idA), undefined);
});

test('a refused rendezvous is asked again at the next stuck dial after 10 s, a few times; without a refusal, once a minute', () => {
  let now = 1_000_000;
  const sent: HolepunchMessage[] = [];
  const broker = { closed: false, address: '198.18.0.101:6881', ext: { m: { ut_holepunch: 4 } }, sendExtended: (_name: string, payload: Uint8Array) => sent.push(decodeHolepunch(payload)!) } as unknown as Peer;
  const hp = new Holepunch({ peers: () => [], busy: () => false, isBanned: () => false, dial: () => {}, log: () => {}, counts: undefined, now: () => now });
  const target = { host: '198.18.0.102', port: 6882 };
  hp.pexAdded(broker, [{ ...target, flags: PEX_FLAG.holepunch | PEX_FLAG.utp }]);
  const stuck = () => {
    const before = sent.length;
    hp.dialStuck('198.18.0.102:6882');
    return sent.length > before;
  };
  const refuse = () => hp.message(broker, encodeHolepunch({ type: HP_ERROR, addr: target, error: HP_ERR.notConnected }));
  assert.ok(stuck(), 'the first stuck dial asks');
  now += 5_000;
  assert.ok(!stuck(), 'not again within the minute');
  refuse();
  now += ASK_AFTER_FAILURE_MS - 1;
  assert.ok(!stuck(), 'not before the retry delay');
  now += 1;
  assert.ok(stuck(), 'asked again 10 s after the refusal');
  assert.ok(!stuck(), 'once');
  // Three quick retries, then only the minute's cadence.
  for (let i = 0; i < 2; i++) {
    refuse();
    now += ASK_AFTER_FAILURE_MS;
    assert.ok(stuck(), `quick retry ${i + 2}`);
  }
  refuse();
  now += ASK_AFTER_FAILURE_MS;
  assert.ok(!stuck(), 'no fourth quick retry');
  now += 60_000;
  assert.ok(stuck(), 'the minute is out');
  // A refusal of an address we never asked about changes nothing.
  hp.message(broker, encodeHolepunch({ type: HP_ERROR, addr: { host: '198.18.0.9', port: 1 }, error: HP_ERR.noSuchPeer }));
  assert.ok(sent.every((m) => m.type === HP_RENDEZVOUS && m.addr.port === 6882));
});
