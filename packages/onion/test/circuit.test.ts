import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { utf8 } from '@cascade/identity';
import { CELL_SIZE, Cmd, decodeCell, encodeCell, type AnnounceRequest, type ExitExecutor, type OnionEvent } from '../index.ts';
import { client, contains, directory, relays, type Observed } from './helpers.ts';

const INFO_HASH = 'c0ffee00112233445566778899aabbccddeeff01';

function recordingExit(asked: AnnounceRequest[]): ExitExecutor {
  return {
    async announce(r) {
      asked.push(r);
      return { interval: 60, peers: [{ host: '127.0.0.40', port: 6881 }] };
    },
    async dhtLookup() {
      return [{ host: '127.0.0.41', port: 6881 }];
    },
  };
}

function announce(): AnnounceRequest {
  return { op: 'announce', url: 'http://127.0.0.30:6969/announce', infoHash: INFO_HASH, peerId: '2d4353303030312d' + '00'.repeat(12), port: 0, uploaded: 0, downloaded: 0, left: 100, event: 'started' };
}

test('a 3-hop circuit carries a request to the exit; every cell is the same size; the first hop never sees the request', async (t) => {
  const { tracker, url } = await directory();
  const seen: Observed[] = [];
  const asked: AnnounceRequest[] = [];
  const rs = await relays(['127.0.0.11', '127.0.0.12', '127.0.0.13'], url, recordingExit(asked), seen);
  const events: OnionEvent[] = [];
  const c = client(url, '127.0.0.5', { onEvent: (e) => events.push(e) });
  t.after(async () => {
    c.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });

  const answer = (await c.request(announce())) as { ok: boolean; result: { peers: unknown[] } };
  assert.deepEqual(answer, { ok: true, result: { interval: 60, peers: [{ host: '127.0.0.40', port: 6881 }] } });
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.infoHash, INFO_HASH);
  const dht = (await c.request({ op: 'dht-lookup', infoHash: INFO_HASH })) as { result: unknown };
  assert.deepEqual(dht.result, [{ host: '127.0.0.41', port: 6881 }]);

  const built = events.find((e) => e.type === 'circuit-built');
  assert.ok(built && built.type === 'circuit-built');
  assert.equal(built.path.length, 3);
  assert.equal(new Set(built.path).size, 3, 'no relay twice in a circuit');
  const hostOf = (did: string) => rs.find((r) => r.identity.did === did)!.host;
  const [first, middle, exit] = built.path.map(hostOf);

  assert.ok(seen.length > 10);
  for (const s of seen) assert.equal(s.size, CELL_SIZE, `a ${s.size}-byte cell on ${s.relay} ${s.direction}`);
  const needle = utf8(INFO_HASH);
  const raw = Buffer.from(INFO_HASH, 'hex');
  for (const s of seen.filter((x) => x.relay === first)) {
    assert.ok(!contains(s.cell, needle) && !contains(s.cell, raw), 'the first relay saw the infohash in a cell');
    if (s.peeled) assert.ok(!contains(s.peeled, needle) && !contains(s.peeled, raw), 'the first relay saw the infohash under its layer');
  }
  // Who talked to whom: only the first relay ever had a link from the client.
  const linksFromClient = seen.filter((s) => s.link.startsWith('tcp:127.0.0.5:'));
  assert.ok(linksFromClient.length > 0);
  assert.ok(linksFromClient.every((s) => s.relay === first));
  assert.ok(seen.filter((s) => s.relay === exit).every((s) => !s.link.includes('127.0.0.5:')), 'the exit had a link from the client');
  assert.ok(seen.some((s) => s.relay === exit && s.link.includes(`${middle}:`)));
});

test('a relay killed in the middle of a circuit: the client notices, builds another and the request goes through', async (t) => {
  const { tracker, url } = await directory();
  const seen: Observed[] = [];
  const asked: AnnounceRequest[] = [];
  const rs = await relays(['127.0.0.21', '127.0.0.22', '127.0.0.23', '127.0.0.24'], url, recordingExit(asked), seen);
  const events: OnionEvent[] = [];
  const c = client(url, '127.0.0.6', { onEvent: (e) => events.push(e) });
  t.after(async () => {
    c.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  await c.request(announce());
  const built = events.find((e) => e.type === 'circuit-built');
  assert.ok(built && built.type === 'circuit-built');
  const middle = rs.find((r) => r.identity.did === built.path[1])!;
  await middle.relay.close();
  const closed = await waitFor(() => events.find((e) => e.type === 'circuit-closed'));
  assert.ok(closed);
  const answer = (await c.request(announce())) as { ok: boolean };
  assert.equal(answer.ok, true);
  const rebuilt = events.filter((e) => e.type === 'circuit-built');
  assert.ok(rebuilt.length >= 2);
  const last = rebuilt.at(-1);
  assert.ok(last && last.type === 'circuit-built' && !last.path.includes(middle.identity.did), 'the new circuit avoids the dead relay');
  assert.equal(asked.length, 2);
});

test('hostile input: a forged descriptor, a relay that answers with the wrong key, malformed and oversized cells', async (t) => {
  const { tracker, url } = await directory();
  const seen: Observed[] = [];
  const rs = await relays(['127.0.0.31', '127.0.0.32', '127.0.0.33'], url, recordingExit([]), seen);
  const c = client(url, '127.0.0.7');
  t.after(async () => {
    c.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  // A descriptor altered after signing (another address) is refused by the directory.
  const good = rs[0]!.relay.descriptor();
  const forged = { ...good, tcp: '127.0.0.99:1' };
  const res = await fetch(`${url}/relays`, { method: 'POST', body: JSON.stringify(forged) });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /bad signature/);
  const garbage = await fetch(`${url}/relays`, { method: 'POST', body: '{"v":1' });
  assert.equal(garbage.status, 400);

  // An impostor at a relay's advertised address: it answers CREATE with keys it made up.
  const impostor = net.createServer((s) => {
    s.once('data', (d) => {
      const { circId } = decodeCell(new Uint8Array(d.subarray(0, CELL_SIZE)));
      const reply = new Uint8Array(66);
      new DataView(reply.buffer).setUint16(0, 64);
      crypto.getRandomValues(reply.subarray(2));
      s.write(encodeCell(circId, Cmd.CREATED, reply));
    });
  });
  await new Promise<void>((r) => impostor.listen(0, '127.0.0.34', r));
  t.after(() => impostor.close());
  const port = (impostor.address() as net.AddressInfo).port;
  const fake = { ...good, tcp: `127.0.0.34:${port}` };
  const fooled = client(url, '127.0.0.7');
  t.after(() => fooled.close());
  await assert.rejects(fooled.build([fake, rs[1]!.relay.descriptor(), rs[2]!.relay.descriptor()]), /did not prove it holds the onion key/);
  // The same at the second hop: the middle relay extends to the impostor, the client sees through it.
  await assert.rejects(fooled.build([rs[1]!.relay.descriptor(), fake, rs[2]!.relay.descriptor()]), /did not prove it holds the onion key/);

  // Malformed and oversized cells on links of their own: those links go, circuits elsewhere stay.
  await c.request(announce());
  const target = rs[0]!;
  const ws = new WebSocket(`ws://${target.host}:${target.relay.port}/onion`);
  await new Promise((r, j) => {
    ws.onopen = r;
    ws.onerror = j;
  });
  const wsClosed = new Promise((r) => (ws.onclose = r));
  ws.send(new Uint8Array(CELL_SIZE * 2));
  await wsClosed;
  const ws2 = new WebSocket(`ws://${target.host}:${target.relay.port}/onion`);
  await new Promise((r, j) => {
    ws2.onopen = r;
    ws2.onerror = j;
  });
  const ws2Closed = new Promise((r) => (ws2.onclose = r));
  ws2.send(new Uint8Array(100));
  await ws2Closed;
  // Over TCP: an unknown command, a RELAY cell for a circuit nobody made, a CREATE with junk.
  const sock = net.connect({ host: target.host, port: target.relay.port });
  await new Promise((r) => sock.once('connect', r));
  sock.write(encodeCell(7, 99));
  sock.write(encodeCell(8, Cmd.RELAY, new Uint8Array(507)));
  sock.write(encodeCell(9, Cmd.CREATE, new Uint8Array(20)));
  const answer = await new Promise<Buffer>((r) => sock.once('data', r));
  assert.equal(decodeCell(new Uint8Array(answer.subarray(0, CELL_SIZE))).cmd, Cmd.DESTROY);
  sock.destroy();
  const after = (await c.request(announce())) as { ok: boolean };
  assert.equal(after.ok, true, 'the honest circuit still works');
  assert.ok(seen.every((s) => s.size === CELL_SIZE));
});

test('an exit does discovery only', async (t) => {
  const { tracker, url } = await directory();
  const rs = await relays(['127.0.0.51', '127.0.0.52', '127.0.0.53'], url, recordingExit([]), []);
  const c = client(url, '127.0.0.8');
  t.after(async () => {
    c.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  const proxy = (await c.request({ op: 'connect', host: 'example.com', port: 80 } as never)) as { ok: boolean; error: string };
  assert.equal(proxy.ok, false);
  assert.match(proxy.error, /discovery only/);
  const bad = (await c.request({ ...announce(), url: 'file:///etc/passwd' })) as { ok: boolean; error: string };
  assert.equal(bad.ok, false);
});

async function waitFor<T>(fn: () => T | undefined, ms = 10_000): Promise<T | undefined> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

test('paths: three distinct relays on distinct hosts, an exit last, a guard first when the directory has one', async () => {
  const { OnionClient } = await import('../index.ts');
  const d = (id: string, host: string, exit: boolean) =>
    ({ v: 1, id, onionKey: '', tcp: `${host}:1`, exit: exit ? { operations: ['announce'], proxy: false } : null, published: 0, expires: 0, sig: '' }) as never;
  const all = [d('g', '127.0.2.1', false), d('m1', '127.0.2.2', false), d('m2', '127.0.2.3', false), d('x', '127.0.2.4', true), d('same-host', '127.0.2.4', false)];
  const c = new OnionClient({ relays: async () => all, dial: async () => { throw new Error('no'); }, guard: (r) => (r as { id: string }).id === 'g' });
  for (let i = 0; i < 50; i++) {
    const path = c.pickPath(all).map((r) => r.id);
    assert.equal(path.length, 3);
    assert.equal(path[0], 'g');
    assert.equal(path[2], 'x');
    assert.notEqual(path[1], 'same-host', 'two hops on one host');
  }
  assert.throws(() => c.pickPath(all.slice(0, 3)), /not enough relays/);
  c.close();
});

test('one link may hold 256 circuits; the rest are refused and other links keep working', { timeout: 30_000 }, async (t) => {
  const { clientHandshake, relayIdDigest, onionKeyOf, concatCreate, cellReader } = await import('../index.ts');
  const { signingKeyFromDid } = await import('@cascade/identity');
  const { tracker, url } = await directory();
  const rs = await relays(['127.0.0.41', '127.0.0.42', '127.0.0.43'], url, recordingExit([]), []);
  const c = client(url, '127.0.0.8');
  t.after(async () => {
    c.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  const d = rs[0]!.relay.descriptor();
  const sock = net.connect({ host: rs[0]!.host, port: rs[0]!.relay.port });
  await new Promise((r) => sock.once('connect', r));
  const answers: number[] = [];
  sock.on('data', cellReader((cell) => answers.push(decodeCell(cell).cmd)));
  for (let i = 1; i <= 260; i++) {
    const hs = clientHandshake(relayIdDigest(signingKeyFromDid(d.id)), onionKeyOf(d));
    sock.write(encodeCell(0x80000000 + i, Cmd.CREATE, concatCreate(hs.message)));
  }
  const deadline = Date.now() + 10_000;
  while (answers.length < 260 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(answers.filter((x) => x === Cmd.CREATED).length, 256);
  assert.equal(answers.filter((x) => x === Cmd.DESTROY).length, 4);
  sock.destroy();
  const ok = (await c.request(announce())) as { ok: boolean };
  assert.equal(ok.ok, true);
});

test('an exit that stays silent: the request times out, the circuit is replaced and the retry is answered', { timeout: 30_000 }, async (t) => {
  const { tracker, url } = await directory();
  let calls = 0;
  const sulky: ExitExecutor = {
    announce: () => (++calls === 1 ? new Promise(() => {}) : Promise.resolve({ interval: 60, peers: [] })),
  };
  const rs = await relays(['127.0.0.44', '127.0.0.45', '127.0.0.46'], url, sulky, []);
  const events: OnionEvent[] = [];
  const c = client(url, '127.0.0.8', { requestTimeoutMs: 500, onEvent: (e) => events.push(e) });
  t.after(async () => {
    c.close();
    await Promise.all(rs.map((r) => r.relay.close()));
    await tracker.close();
  });
  const answer = (await c.request(announce())) as { ok: boolean };
  assert.equal(answer.ok, true);
  assert.equal(calls, 2);
  assert.ok(events.some((e) => e.type === 'circuit-closed' && /timed out/.test(e.reason)));
  assert.equal(events.filter((e) => e.type === 'circuit-built').length, 2);
});
