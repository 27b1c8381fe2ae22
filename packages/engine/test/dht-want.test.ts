// BEP 32 `want` byte for byte (dht-want.ts, the IPv6 socket's boundary): which nodes an answer
// carries for each `want`, hostile `want` lists and malformed nodes6/nodes dropped cleanly. The
// sockets are proved against libtorrent in ipv6-dht-want.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, isDict } from '../src/encoding/bencode.ts';
import { ipv6Bytes, ipv6Text } from '../src/encoding/ip6.ts';
import { HandleTable, incoming, outgoing } from '../src/node/dht6-socket.ts';
import { answerWant, compactNodes4, parseNodes4, parseNodes6, wantOf, type WantSide } from '../src/node/dht-want.ts';

const te = new TextEncoder();
const id = new Uint8Array(20).fill(9);

test('wantOf: a list of n4/n6 (bytes or text); anything else is no want, unknown entries ignored', () => {
  assert.deepEqual([...wantOf({ want: [te.encode('n4'), te.encode('n6')] })!], ['n4', 'n6']);
  assert.deepEqual([...wantOf({ want: ['n6', 'n9', 42, { x: 1 }] })!], ['n6']);
  assert.deepEqual([...wantOf({ want: [] })!], []);
  for (const a of [undefined, null, 'n6', { want: 'n6' }, { want: 7 }, { want: { n6: 1 } }]) assert.equal(wantOf(a), undefined);
  // A hostile list of a thousand entries is read to its eighth.
  assert.deepEqual([...wantOf({ want: [...Array(1000).fill('x'), 'n6'] })!], []);
});

test('answerWant: own nodes unless want leaves them out, the other family\'s when asked', () => {
  const six: WantSide = {
    family: 'n6', nodeId: id, bootstrapNodes: [], nodeCount: () => 1, addNode: () => {},
    ask: () => Promise.resolve(undefined),
    closest: () => [{ id, host: 'fd00::5', port: 6881 }],
  };
  const target = new Uint8Array(20);
  const own = [{ id, host: '10.0.0.1', port: 1 }];
  const r1: Record<string, unknown> = {};
  assert.equal(answerWant('n4', { a: { target } }, r1, own, six), own, 'no want: as before');
  assert.equal(r1.nodes6, undefined);
  const r2: Record<string, unknown> = {};
  assert.equal(answerWant('n4', { a: { info_hash: target, want: ['n4', 'n6'] } }, r2, own, six), own);
  assert.equal(ipv6Text(r2.nodes6 as Uint8Array, 20), 'fd00::5');
  const r3: Record<string, unknown> = {};
  assert.equal(answerWant('n4', { a: { target, want: ['n6'] } }, r3, own, six), null, 'want n6 only: no IPv4 nodes');
  assert.equal((r3.nodes6 as Uint8Array).length, 38);
  // No target, or no other family: nothing added, nothing thrown.
  const r4: Record<string, unknown> = {};
  assert.equal(answerWant('n4', { a: { target: new Uint8Array(3), want: ['n6'] } }, r4, own, six), null);
  assert.equal(answerWant('n4', { a: { target, want: ['n6'] } }, r4, own, undefined), null);
  assert.deepEqual(r4, {});
});

test('received nodes: malformed, unspecified, mapped, multicast and our handle range dropped; at most 16', () => {
  const n6 = (addr: string, port: number) => [...id, ...ipv6Bytes(addr), port >> 8, port & 255];
  const nodes6 = Uint8Array.from([...n6('fd00::1', 6881), ...n6('::', 1), ...n6('::ffff:1.2.3.4', 2), ...n6('ff02::1', 3), ...n6('fd00::2', 0), 1, 2, 3]);
  assert.deepEqual(parseNodes6(nodes6), [{ host: 'fd00::1', port: 6881 }]);
  assert.deepEqual(parseNodes6('nodes6'), []);
  assert.equal(parseNodes6(Uint8Array.from(Array.from({ length: 100 }, (_, i) => n6(`fd00::${i + 1}`, 1)).flat())).length, 16);
  const four = compactNodes4([{ id, host: '10.0.0.1', port: 6881 }, { id, host: '0.1.2.3', port: 1 }, { id, host: '240.0.0.1', port: 1 }, { id, host: '224.0.0.1', port: 1 }, { id, host: 'fd00::1', port: 1 }]);
  assert.equal(four.length, 4 * 26, 'a v6 host is not written as IPv4');
  assert.deepEqual(parseNodes4(four), [{ host: '10.0.0.1', port: 6881 }]);
});

test('the IPv6 socket: received IPv4 nodes kept as nodes4 (never shown as handles), ours sent as nodes', () => {
  const handles = new HandleTable();
  const v4node = compactNodes4([{ id, host: '10.0.0.7', port: 6881 }]);
  const seen = decode(incoming(encode({ t: 'aa', y: 'r', r: { id, nodes: v4node, nodes4: 'forged' } }), handles)!).value;
  assert.ok(isDict(seen) && isDict(seen.r));
  assert.deepEqual(seen.r.nodes, new Uint8Array(0));
  assert.deepEqual(parseNodes4(seen.r.nodes4), [{ host: '10.0.0.7', port: 6881 }]);
  const sent = decode(outgoing(encode({ t: 'bb', y: 'r', r: { id, nodes4: v4node } }), handles)).value;
  assert.ok(isDict(sent) && isDict(sent.r));
  assert.deepEqual(parseNodes4(sent.r.nodes), [{ host: '10.0.0.7', port: 6881 }]);
  assert.ok(!('nodes4' in sent.r) && !('nodes6' in sent.r));
});
