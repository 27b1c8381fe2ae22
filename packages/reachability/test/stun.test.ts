// STUN: our messages against a real, independent STUN implementation (npm `stun`), both ways, and
// NAT typing from what servers on 127.0.0.x report (on loopback there is no NAT: "open").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import {
  bindingRequest, bindingSuccess, decodeStun, isStunMessage, readBindingAnswer, probeNat, stunProbe, parseStunUrl,
  mintTurnCredentials, BINDING_REQUEST, type StunServer,
} from '../index.ts';

const stun = createRequire(import.meta.url)('stun');

/** A STUN server of ours on `host`, answering every binding request (the tracker's answer, reduced). */
async function ourServer(t: { after: (fn: () => unknown) => void }, host: string, opts: { other?: StunServer } = {}) {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, r));
  const seen: string[] = [];
  socket.on('message', (msg, rinfo) => {
    if (!isStunMessage(msg)) return;
    const m = decodeStun(msg);
    if (m.type !== BINDING_REQUEST) return;
    seen.push(`${rinfo.address}:${rinfo.port}`);
    const origin = { family: 4 as const, address: host, port: socket.address().port };
    const other = opts.other && { family: 4 as const, address: opts.other.host, port: opts.other.port };
    socket.send(bindingSuccess(m.transactionId, { family: 4, address: rinfo.address, port: rinfo.port }, { origin, ...(other ? { other } : {}), software: 'test' }), rinfo.port, rinfo.address);
  });
  t.after(() => socket.close());
  return { host, port: socket.address().port, seen };
}

test('our binding answer is read by npm stun (XOR-MAPPED-ADDRESS, fingerprint); its request is read by us', async (t) => {
  const server = await ourServer(t, '127.0.0.21');
  // Its own socket, closed here: npm stun leaves the one it makes open.
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  t.after(() => socket.close());
  const res = await stun.request(`${server.host}:${server.port}`, { socket });
  assert.ok(stun.validateFingerprint(res), 'fingerprint checks out');
  const { address, port } = res.getXorAddress();
  assert.equal(address, '127.0.0.1');
  assert.equal(`${address}:${port}`, server.seen[0]);

  const theirs = stun.encode(stun.createMessage(stun.constants.STUN_BINDING_REQUEST));
  assert.ok(isStunMessage(theirs));
  assert.equal(decodeStun(theirs).type, BINDING_REQUEST);
});

test('our probe reads an answer from npm stun’s server; IPv6 addresses round-trip; non-STUN bytes are told apart', async (t) => {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.22', r));
  const server = stun.createServer({ type: 'udp4', socket });
  server.on('bindingRequest', (req: unknown, rinfo: dgram.RemoteInfo) => {
    const msg = stun.createMessage(stun.constants.STUN_BINDING_RESPONSE, (req as { transactionId: Buffer }).transactionId);
    msg.addXorAddress(rinfo.address, rinfo.port);
    server.send(msg, rinfo.port, rinfo.address);
  });
  t.after(() => (server.close(), socket.close())); // a socket handed to it stays open otherwise
  const client = dgram.createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
  t.after(() => client.close());
  const answer = await stunProbe(client, { host: '127.0.0.22', port: socket.address().port });
  assert.deepEqual(answer.mapped, { family: 4, address: '127.0.0.1', port: client.address().port });

  const id = new Uint8Array(12).fill(7);
  const v6 = readBindingAnswer(decodeStun(bindingSuccess(id, { family: 6, address: '2001:db8::1', port: 6881 })));
  assert.deepEqual(v6.mapped, { family: 6, address: '2001:db8::1', port: 6881 });
  // A BEP 15 connect request (protocol id 0x41727101980) and junk are not STUN.
  const connect = Buffer.from('0000041727101980000000000000000a', 'hex');
  assert.equal(isStunMessage(connect), false);
  assert.equal(isStunMessage(new Uint8Array(20)), false);
  assert.equal(isStunMessage(bindingRequest()), true);
  assert.throws(() => decodeStun(connect), /not a STUN message/);
});

test('NAT type on loopback: open when the mapped address is our own; unknown with one server; the reason when nobody answers', async (t) => {
  const a = await ourServer(t, '127.0.0.23');
  const b = await ourServer(t, '127.0.0.24');
  const two = await probeNat([a, b], { bindAddress: '127.0.0.1' });
  assert.equal(two.nat, 'open');
  assert.equal(two.externalAddress, '127.0.0.1');
  assert.equal(Object.keys(two.answers).length, 2);

  // One server naming another address of its own (OTHER-ADDRESS) counts as two.
  const c = await ourServer(t, '127.0.0.25', { other: b });
  const viaOther = await probeNat([c], { bindAddress: '127.0.0.1' });
  assert.equal(viaOther.nat, 'open');
  assert.ok(viaOther.answers[`${b.host}:${b.port}`], 'the other address was asked');

  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.26', r));
  t.after(() => silent.close());
  const none = await probeNat([{ host: '127.0.0.26', port: silent.address().port }], { bindAddress: '127.0.0.1', timeoutMs: 500 });
  assert.equal(none.nat, 'unknown');
  assert.equal(none.reason, 'no STUN server answered');
  assert.match(Object.values(none.answers)[0]!, /no STUN answer/);
  assert.equal((await probeNat([])).reason?.startsWith('no STUN server known'), true);
});

test('STUN URLs and coturn-style TURN credentials', () => {
  assert.deepEqual(parseStunUrl('stun:198.18.0.1:3478'), { host: '198.18.0.1', port: 3478 });
  assert.deepEqual(parseStunUrl('stun:example.org'), { host: 'example.org', port: 3478 });
  assert.deepEqual(parseStunUrl('stun:[::1]:19302'), { host: '::1', port: 19302 });
  assert.throws(() => parseStunUrl('stun:host:99999'), /bad port/);
  const c = mintTurnCredentials('s3cret', 3600, 'node:a', 1_700_000_000_000);
  assert.equal(c.username, '1700003600:node_a');
  // echo -n 1700003600:node_a | openssl dgst -sha1 -hmac s3cret -binary | base64
  assert.equal(c.credential, 'k+3SlMI40vNq4/LAVd1AF7ja6pU=');
  assert.equal(c.expires, 1_700_003_600);
});
