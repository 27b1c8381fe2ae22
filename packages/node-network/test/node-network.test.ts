// How a node finds out how it is reached (issue 23, points 4 and 6), on loopback: STUN servers of its
// trackers (a udp:// tracker's port; an http tracker's /ice-servers, with TURN credentials) become
// the ICE servers its WebRTC uses when none are configured; a configured list wins. GET /api/network,
// which says what was found: packages/http/test/node-network.test.ts. NAT types behind real NATs: the
// lab tests (cli/test/nat-*.lab).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer } from 'node:http';
import { bindingSuccess, decodeStun, isStunMessage } from '@cascade/reachability';
import type { IceServer } from '@cascade/node/basics';
import { NodeNetwork } from '../src/node-network.ts';

type Ctx = { after: (fn: () => unknown) => void };

async function stunServer(t: Ctx, host: string) {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, host, r));
  let asked = 0;
  socket.on('message', (msg, rinfo) => {
    if (!isStunMessage(msg)) return;
    asked++;
    socket.send(bindingSuccess(decodeStun(msg).transactionId, { family: 4, address: rinfo.address, port: rinfo.port }), rinfo.port, rinfo.address);
  });
  t.after(() => socket.close());
  return { url: `udp://${host}:${socket.address().port}/announce`, port: socket.address().port, asked: () => asked };
}

/** An HTTP "tracker" whose /ice-servers answers as a Cascade tracker does. */
async function iceServersTracker(t: Ctx, host: string, body: unknown, path = '/ice-servers') {
  const server = createServer((req, res) => {
    if (req.url === path) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  t.after(() => server.close());
  return `http://${host}:${(server.address() as { port: number }).port}/announce`;
}

test('with no ICE servers configured, the node uses its trackers’ STUN and TURN; a configured list wins; nobody answering is said', { timeout: 30_000 }, async (t) => {
  const a = await stunServer(t, '127.0.0.41');
  const b = await stunServer(t, '127.0.0.42');
  const turn = { urls: ['turn:127.0.0.43:3478'], username: '1900000000:cascade', credential: 'minted' };
  const http = await iceServersTracker(t, '127.0.0.44', { iceServers: [{ urls: `stun:127.0.0.42:${b.port}` }, turn, { urls: 'turn:x', username: 7 }], ttl: 3600 });
  const notCascade = 'http://127.0.0.45:9/announce'; // nothing listens: offers nothing
  // A private tracker mints TURN credentials for a passkey only: the node asks with the one in its announce URL.
  const privateTurn = { urls: ['turn:127.0.0.47:3478'], username: '1900000000:u1', credential: 'member' };
  const privateTracker = (await iceServersTracker(t, '127.0.0.46', { iceServers: [privateTurn] }, '/ice-servers/pk123')).replace('/announce', '/announce/pk123');
  let configured: IceServer[] = [];
  const applied: IceServer[][] = [];
  const net = new NodeNetwork({
    trackerUrls: () => [a.url, http, notCascade, privateTracker],
    configuredIceServers: () => configured,
    apply: (list) => applied.push(list),
    bindAddress: '127.0.0.1',
    isOwnAddress: () => false,
  });
  t.after(() => net.stop());
  await net.refresh();
  let s = net.status();
  assert.equal(s.nat, 'open', JSON.stringify(s));
  assert.equal(s.externalAddress, '127.0.0.1');
  assert.equal(s.iceSource, 'trackers');
  assert.deepEqual(s.iceServers, [
    { urls: [`stun:127.0.0.41:${a.port}`] },
    { urls: [`stun:127.0.0.42:${b.port}`] },
    { urls: ['turn:127.0.0.43:3478'], username: '1900000000:cascade', credential: 'minted' },
    privateTurn,
  ], 'a STUN server that answered, from each tracker; TURN as the tracker minted it; a malformed entry without its credential');
  assert.deepEqual(applied.at(-1), s.iceServers, 'in force for the node’s WebRTC');
  assert.ok(a.asked() > 0 && b.asked() > 0);
  assert.deepEqual(s.portMapping, { method: null, externalPort: null, error: 'port mapping is off' });

  configured = [{ urls: ['stun:127.0.0.42:' + b.port] }];
  await net.refresh();
  s = net.status();
  assert.equal(s.iceSource, 'setting');
  assert.deepEqual(s.iceServers, configured);
  assert.deepEqual(applied.at(-1), configured);

  const lonely = new NodeNetwork({ trackerUrls: () => [], configuredIceServers: () => [], apply: () => {} });
  await lonely.refresh();
  assert.equal(lonely.status().nat, 'unknown');
  assert.match(String(lonely.status().reason), /no STUN server known/);
});
