// STUN on the UDP tracker port (issue 23): a real STUN client (npm `stun`) learns its mapped address
// from a tracker process, BEP 15 keeps working on the same port, connection ids never look like
// STUN, and STUN-shaped junk neither crashes the tracker nor gets answers it should not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { BINDING_REQUEST, BINDING_SUCCESS, MAGIC_COOKIE, bindingRequest, decodeStun, encodeStun, isStunMessage, readBindingAnswer } from '@cascade/reachability';
import { ConnectionIds, avoidStunCookie } from '../src/udp/connection-id.ts';
import { id, spawnTracker, udpAnnounce, udpClient, udpPortOf } from './helpers.ts';

// CommonJS, without types of its own.
const stun = createRequire(import.meta.url)('stun') as {
  request(url: string, opts: { socket: dgram.Socket; retries?: number }): Promise<StunResponse>;
  validateFingerprint(m: StunResponse): boolean;
  constants: Record<string, number>;
};
interface StunResponse {
  getXorAddress(): { address: string; port: number; family: string };
  getAddress(): { address: string; port: number };
  getAttribute(type: number): { value: unknown } | undefined;
}

async function socketOn(host: string, type: 'udp4' | 'udp6' = 'udp4'): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  s.bind(0, host);
  await once(s, 'listening');
  return s;
}

/** Sends `msg` from `s` and waits up to `ms` for one reply (undefined: none). */
async function ask(s: dgram.Socket, msg: Uint8Array, port: number, host: string, ms = 700): Promise<Buffer | undefined> {
  s.send(msg, port, host);
  try {
    const [reply] = (await once(s, 'message', { signal: AbortSignal.timeout(ms) })) as [Buffer];
    return reply;
  } catch {
    return undefined;
  }
}

test('npm stun gets its mapped address from the tracker\'s UDP port; a BEP 15 announce works on it right after', async (t) => {
  const tracker = await spawnTracker(['--host', '127.0.0.31', '--http-port', '0', '--udp-port', '0']);
  t.after(() => tracker.stop());
  const udpPort = udpPortOf(tracker.listening.udp);

  // Its own socket, closed here: npm stun leaves the one it makes open.
  const socket = await socketOn('127.0.0.32');
  t.after(() => socket.close());
  const res = await stun.request(`127.0.0.31:${udpPort}`, { socket, retries: 3 });
  assert.ok(stun.validateFingerprint(res), 'the answer carries a valid FINGERPRINT');
  const mapped = res.getXorAddress();
  assert.deepEqual({ address: mapped.address, port: mapped.port }, { address: '127.0.0.32', port: socket.address().port });
  assert.equal(String(res.getAttribute(stun.constants.STUN_ATTR_SOFTWARE)?.value), 'cascade-tracker');
  const origin = res.getAttribute(stun.constants.STUN_ATTR_RESPONSE_ORIGIN)?.value as { address: string; port: number };
  assert.deepEqual({ address: origin.address, port: origin.port }, { address: '127.0.0.31', port: udpPort }, 'RESPONSE-ORIGIN names the bound UDP port');

  // BEP 15 on the same port, from the same machine, right after.
  const c = await udpClient(udpPort, '127.0.0.31');
  t.after(() => c.close());
  const conn = await c.connect();
  assert.notEqual(conn.readUInt32BE(4), MAGIC_COOKIE);
  const reply = await c.request(udpAnnounce(conn, id(0x5a), id(1), 6881, 0n, 2));
  assert.ok(reply, 'an announce reply');
  assert.equal(reply.readUInt32BE(0), 1, 'action announce');
  assert.equal(reply.readUInt32BE(16), 1, 'one seeder: ourselves');

  const stats = (await (await fetch(tracker.listening.stats)).json()) as { stunAnswers: number; announces: { udp: number } };
  assert.equal(stats.stunAnswers, 1);
  assert.equal(stats.announces.udp, 1);
  const metrics = await (await fetch(tracker.listening.stats.replace(/\/stats$/, '/metrics'))).text();
  assert.match(metrics, /^cascade_tracker_stun_answers_total 1$/m);
});

test('a connection id never carries the STUN cookie at bytes 4-7', () => {
  assert.notEqual(avoidStunCookie(MAGIC_COOKIE), MAGIC_COOKIE, 'the one colliding value is moved');
  for (const v of [0, 1, MAGIC_COOKIE - 1, MAGIC_COOKIE + 1, 0xffffffff]) assert.equal(avoidStunCookie(v), v, 'others are left alone');
  // Many keys, addresses, ports and time slots: none yields the cookie, and no connect reply or
  // announce built on an id reads as STUN.
  const out = Buffer.alloc(98);
  let n = 0;
  for (let k = 0; k < 20; k++) {
    const ids = new ConnectionIds(randomBytes(8));
    for (let i = 0; i < 10_000; i++) {
      const addr = `10.${k}.${i >> 8}.${i & 255}`;
      ids.write(out, 0, addr, 1024 + i, i * 120_000);
      n++;
      assert.notEqual(out.readUInt32BE(4), MAGIC_COOKIE);
      assert.equal(isStunMessage(out), false);
      assert.ok(ids.check(out, addr, 1024 + i, i * 120_000), 'the id still checks');
    }
  }
  assert.equal(n, 200_000);
});

test('STUN-shaped junk is dropped unanswered or refused; the tracker keeps answering STUN and BEP 15', async (t) => {
  const tracker = await spawnTracker(['--host', '127.0.0.33', '--http-port', '0', '--udp-port', '0']);
  t.after(() => tracker.stop());
  const port = udpPortOf(tracker.listening.udp);
  const s = await socketOn('127.0.0.34');
  t.after(() => s.close());

  const tid = () => randomBytes(12);
  const header = (type: number, length: number, body = Buffer.alloc(length)) => {
    const b = Buffer.alloc(20 + body.length);
    b.writeUInt16BE(type, 0);
    b.writeUInt16BE(length, 2);
    b.writeUInt32BE(MAGIC_COOKIE, 4);
    tid().copy(b, 8);
    body.copy(b, 20);
    return b;
  };
  const attrPastEnd = Buffer.alloc(8);
  attrPastEnd.writeUInt16BE(0x8022, 0);
  attrPastEnd.writeUInt16BE(200, 2); // says 200 bytes follow; 4 do
  const junk: [string, Buffer][] = [
    ['an attribute that runs past the message', header(BINDING_REQUEST, 8, attrPastEnd)],
    ['a binding indication', Buffer.from(encodeStun(0x0011, tid()))],
    ['a binding success sent to the server', Buffer.from(encodeStun(BINDING_SUCCESS, tid()))],
    ['an Allocate request (a TURN method this port does not serve)', Buffer.from(encodeStun(0x0003, tid()))],
    ['a cookie with a length that does not match', header(BINDING_REQUEST, 40, Buffer.alloc(12))],
    ['a length not a multiple of 4', header(BINDING_REQUEST, 6, Buffer.alloc(6))],
    ['the cookie but the top bits set', (() => { const b = header(BINDING_REQUEST, 0); b[0] = 0xc0; return b; })()],
    ['an oversized binding request', header(BINDING_REQUEST, 2000)],
    ['the bare 20-byte header, cut short', header(BINDING_REQUEST, 0).subarray(0, 19)],
  ];
  for (const [what, msg] of junk) {
    const reply = await ask(s, msg, port, '127.0.0.33', 300);
    // Nothing read as STUN gets a STUN answer; what falls through to BEP 15 gets at most its
    // bounded error (never bigger than the request).
    if (reply) {
      assert.equal(isStunMessage(reply), false, `${what}: no STUN answer`);
      assert.ok(reply.length <= msg.length, `${what}: no amplification (${reply.length} > ${msg.length})`);
    }
  }
  // A flood of random STUN-headed packets.
  for (let i = 0; i < 500; i++) {
    const body = randomBytes(4 * Math.floor(Math.random() * 20));
    s.send(header(Math.floor(Math.random() * 0x4000), body.length, body), port, '127.0.0.33');
  }
  await new Promise((r) => setTimeout(r, 300));
  s.removeAllListeners('message');

  // A minimal binding request (no FINGERPRINT: RFC 5389 makes it optional) is answered.
  const req = bindingRequest(undefined);
  const bare = Buffer.from(encodeStun(BINDING_REQUEST, decodeStun(req).transactionId, [], false));
  const answer = await ask(s, bare, port, '127.0.0.33');
  assert.ok(answer && isStunMessage(answer), 'a binding answer');
  const read = readBindingAnswer(decodeStun(answer));
  assert.deepEqual(read.mapped, { family: 4, address: '127.0.0.34', port: s.address().port });
  assert.deepEqual(Buffer.from(decodeStun(answer).transactionId), bare.subarray(8, 20), 'same transaction id');
  assert.ok(answer.length <= 100, `a small answer (${answer.length} bytes)`);

  const c = await udpClient(port, '127.0.0.33');
  t.after(() => c.close());
  await c.connect();
  assert.equal(tracker.child.exitCode, null, 'still running');
});

test('STUN over IPv6, and IPv4 clients of a dual-stack (::) tracker get an IPv4 mapped address', async (t) => {
  const tracker = await spawnTracker(['--host', '::', '--http-port', '0', '--udp-port', '0']);
  t.after(() => tracker.stop());
  const port = udpPortOf(tracker.listening.udp);
  const v6 = await socketOn('::1', 'udp6');
  const v4 = await socketOn('127.0.0.35');
  t.after(() => (v6.close(), v4.close()));

  const a6 = await ask(v6, bindingRequest(), port, '::1');
  assert.ok(a6);
  const r6 = readBindingAnswer(decodeStun(a6));
  assert.deepEqual(r6.mapped, { family: 6, address: '::1', port: v6.address().port });
  assert.equal(r6.origin, undefined, 'a wildcard bind does not claim 0.0.0.0 or :: as its origin');

  const a4 = await ask(v4, bindingRequest(), port, '127.0.0.1');
  assert.ok(a4);
  assert.deepEqual(readBindingAnswer(decodeStun(a4)).mapped, { family: 4, address: '127.0.0.35', port: v4.address().port });
});

test('STUN is rate-limited per IP like announces: past the burst, requests are dropped', async (t) => {
  const tracker = await spawnTracker(['--host', '127.0.0.36', '--http-port', '0', '--udp-port', '0', '--rate-limit', '1']);
  t.after(() => tracker.stop());
  const port = udpPortOf(tracker.listening.udp);
  const s = await socketOn('127.0.0.37');
  t.after(() => s.close());
  let answers = 0;
  s.on('message', () => answers++);
  for (let i = 0; i < 30; i++) s.send(bindingRequest(), port, '127.0.0.36');
  await new Promise((r) => setTimeout(r, 500));
  // --rate-limit 1 gives a burst of 5, and one more token per second.
  assert.ok(answers >= 5 && answers <= 7, `answers within the burst: ${answers}`);
  const stats = (await (await fetch(tracker.listening.stats)).json()) as { stunAnswers: number; rateLimited: { udp: number } };
  assert.equal(stats.stunAnswers, answers);
  assert.equal(stats.rateLimited.udp, 30 - answers);
});
