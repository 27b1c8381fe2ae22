// IPv6 in the compact forms, byte for byte: PEX added6/dropped6 (BEP 11), the extended handshake's
// yourip and ipv6 (BEP 10), and the BEP 32 boundary of the IPv6 DHT (nodes6 and 18-byte values
// shown to bittorrent-dht as handles). The sockets are proved in ipv6.test.ts with libtorrent.
// Before: added6 and dropped6 were neither read nor written, and the handshake had neither field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, isDict } from '../src/encoding/bencode.ts';
import { ipv6Bytes, ipv6Text } from '../src/encoding/ip6.ts';
import { decodeExtHandshake, decodePex, encodeExtHandshake, encodePex } from '../src/wire/extended.ts';
import { OwnAddresses, addressFields, learnAddresses } from '../src/swarm/own-address.ts';
import { HandleTable, incoming, isHandle, outgoing } from '../src/node/dht6-socket.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

test('IPv6 text and bytes: RFC 5952 out, every spelling in, garbage refused', () => {
  assert.equal(ipv6Text(hex('fd000000000000000000000000000001')), 'fd00::1');
  assert.equal(ipv6Text(hex('20010db8000000010000000000000000')), '2001:db8:0:1::');
  assert.equal(ipv6Text(hex('00000000000000000000ffff7f000001')), '::ffff:127.0.0.1');
  for (const a of ['::1', 'fd00::1', '2001:db8:0:1::', '2001:db8::1:0:0:1', '1:2:3:4:5:6:7:8']) assert.equal(ipv6Text(ipv6Bytes(a)), a);
  assert.equal(ipv6Text(ipv6Bytes('[FD00:0:0::0001]')), 'fd00::1');
  assert.equal(ipv6Text(ipv6Bytes('::ffff:10.1.2.3')), '::ffff:10.1.2.3');
  for (const bad of ['1.2.3.4', 'fd00:::1', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '']) assert.throws(() => ipv6Bytes(bad), /not an IPv6 address/, bad);
});

test('PEX: added6 and dropped6 as libtorrent writes them; useless IPv6 addresses are dropped', () => {
  // libtorrent 2.0's ut_pex message with one IPv4 and two IPv6 peers added, one IPv6 dropped; the
  // flags: uTP + holepunch (0x0c), seed + uTP (0x06), none.
  const lt = encode({
    added: hex('0a000001 1ae1'), 'added.f': hex('0c'),
    added6: hex('fd000000000000000000000000000001 1ae1 fd000000000000000000000000000002 1ae2'), 'added6.f': hex('0600'),
    dropped: new Uint8Array(0), dropped6: hex('fd000000000000000000000000000003 1ae3'),
  });
  assert.deepEqual(decodePex(lt), {
    added: [{ host: '10.0.0.1', port: 6881, flags: 0x0c }, { host: 'fd00::1', port: 6881, flags: 0x06 }, { host: 'fd00::2', port: 6882, flags: 0 }],
    dropped: [{ host: 'fd00::3', port: 6883 }],
  });
  // Flags of the wrong length are not trusted (libtorrent's rule): the peers come without them.
  assert.deepEqual(decodePex(encode({ added: hex('0a000001 1ae1 0a000002 1ae1'), 'added.f': hex('08') })).added, [{ host: '10.0.0.1', port: 6881 }, { host: '10.0.0.2', port: 6881 }]);
  // Ours: the same keys, an added6.f flag per IPv6 peer, and the v6 lists only when non-empty.
  const ours = decode(encodePex([{ host: '10.0.0.1', port: 1, flags: 0x1c }, { host: 'fd00::1', port: 2, flags: 0x08 }], [{ host: '2001:db8::9', port: 3 }])).value;
  assert.ok(isDict(ours));
  assert.deepEqual(Buffer.from(ours.added6 as Uint8Array).toString('hex'), 'fd000000000000000000000000000001' + '0002');
  assert.deepEqual([...(ours['added.f'] as Uint8Array)], [0x1c]);
  assert.deepEqual([...(ours['added6.f'] as Uint8Array)], [0x08]);
  assert.deepEqual(Buffer.from(ours.dropped6 as Uint8Array).toString('hex'), '20010db8000000000000000000000009' + '0003');
  const v4only = decode(encodePex([{ host: '10.0.0.1', port: 1 }], [])).value;
  assert.ok(isDict(v4only) && !('added6' in v4only) && !('dropped6' in v4only));
  // Unspecified, multicast, link-local, v4-mapped or port 0: not peers anyone can dial.
  const junk = ['00000000000000000000000000000000', 'ff020000000000000000000000000001', 'fe800000000000000000000000000001', '00000000000000000000ffff0a000001']
    .map((a) => a + '1ae1').join('') + 'fd000000000000000000000000000001' + '0000';
  assert.deepEqual(decodePex(encode({ added6: hex(junk) })).added, []);
  // A flood is cut at 200 peers each way.
  assert.equal(decodePex(encode({ added6: new Uint8Array(18 * 500).map((_, i) => (i % 18 === 0 ? 0xfd : i % 18 === 17 ? 1 : 0)) })).added.length, 200);
});

test('BEP 10: yourip (4 or 16 bytes) and ipv6 written and read; a v4-mapped yourip reads as IPv4', () => {
  const ours = decode(encodeExtHandshake({ client: 'x', reqq: 1, yourIp: '10.0.0.7', ipv6: 'fd00::5' })).value;
  assert.ok(isDict(ours));
  assert.deepEqual([...(ours.yourip as Uint8Array)], [10, 0, 0, 7]);
  assert.equal(ipv6Text(ours.ipv6 as Uint8Array), 'fd00::5');
  assert.equal(decodeExtHandshake(encodeExtHandshake({ client: 'x', reqq: 1, yourIp: 'fd00::9' })).yourIp, 'fd00::9');
  // What libtorrent sends an IPv4 peer reached on a dual-stack socket.
  assert.equal(decodeExtHandshake(encode({ m: {}, yourip: hex('00000000000000000000ffffc0a80002') })).yourIp, '192.168.0.2');
  // Wrong lengths are ignored, not trusted.
  const bad = decodeExtHandshake(encode({ m: {}, yourip: hex('0102'), ipv6: hex('01020304') }));
  assert.equal(bad.yourIp, undefined);
  assert.equal(bad.ipv6, undefined);
  // A WebRTC peer's "address" is no IP: nothing is written.
  assert.ok(!('yourip' in (decode(encodeExtHandshake({ client: 'x', reqq: 1, yourIp: 'webrtc-abc' })).value as object)));
});

test('our IPv6 address is what two peers from different /64s report; one peer alone, or ::1, decides nothing', () => {
  const own = new OwnAddresses();
  own.note('2001:db8::5', '2001:db8:1::1');
  own.note('2001:db8::5', '2001:db8:1::2'); // the same /64 again
  assert.equal(own.ipv6, undefined);
  own.note('::1', '2001:db8:3::1');
  own.note('fe80::1', '2001:db8:3::1');
  own.note('10.0.0.1', '2001:db8:3::1');
  assert.equal(own.ipv6, undefined);
  own.note('2001:db8::5', '2001:db8:2::1');
  assert.equal(own.ipv6, '2001:db8::5');
  // Sent to peers on IPv4 only (an IPv6 peer already has it); yourip to every TCP peer.
  assert.deepEqual(addressFields('10.0.0.2:6881', 'tcp', own), { yourIp: '10.0.0.2', ipv6: '2001:db8::5' });
  assert.deepEqual(addressFields('[fd00::2]:6881', 'tcp', own), { yourIp: 'fd00::2' });
  assert.deepEqual(addressFields('x', 'webrtc', own), {});
  // A peer on IPv4 that names its IPv6 address is dialled there, at its listen port.
  const ext = { m: {}, ipv6: 'fd00::7', port: 7000 };
  assert.deepEqual(learnAddresses(ext, '10.0.0.3:5000', false, own), { host: 'fd00::7', port: 7000 });
  assert.deepEqual(learnAddresses({ m: {}, ipv6: 'fd00::7' }, '10.0.0.3:5000', true, own), { host: 'fd00::7', port: 5000 });
  assert.equal(learnAddresses({ m: {}, ipv6: 'fd00::7' }, '10.0.0.3:5000', false, own), undefined, 'no port known');
  assert.equal(learnAddresses(ext, '[fd00::3]:5000', false, own), undefined, 'already on IPv6');
  assert.equal(learnAddresses({ m: {}, ipv6: 'ff02::1', port: 1 }, '10.0.0.3:5000', false, own), undefined);
});

test('BEP 32 boundary: nodes6 and 18-byte values in, nodes and 6-byte handles for bittorrent-dht, and back', () => {
  const handles = new HandleTable(3);
  const id = new Uint8Array(20).fill(7);
  const node6 = (addr: string, port: number) => Uint8Array.from([...id, ...ipv6Bytes(addr), port >> 8, port & 255]);
  // libtorrent's get_peers answer over IPv6: nodes6 and values (and a v4 node it should not send).
  const reply = encode({
    t: hex('aa'), y: 'r',
    r: { id, nodes6: Uint8Array.from([...node6('fd00::1', 6881), ...node6('::', 1), ...node6('fd00::2', 6882)]), nodes: hex('0101010101010101010101010101010101010101 0a000001 1ae1'), values: [hex('fd000000000000000000000000000009 1ae9'), hex('0a000001 1ae1')] },
  });
  const seen = decode(incoming(reply, handles)!).value;
  assert.ok(isDict(seen) && isDict(seen.r));
  const nodes = seen.r.nodes as Uint8Array;
  assert.equal(nodes.length, 2 * 26, 'the two usable v6 nodes, no v4 node, no unspecified one');
  const h1 = `${nodes[20]}.${nodes[21]}.${nodes[22]}.${nodes[23]}`;
  assert.ok(isHandle(h1));
  assert.equal(handles.address(h1), 'fd00::1');
  const values = seen.r.values as Uint8Array[];
  assert.equal(values.length, 1);
  assert.equal(handles.address(`${values[0]![0]}.${values[0]![1]}.${values[0]![2]}.${values[0]![3]}`), 'fd00::9');
  assert.ok(!('nodes6' in seen.r));

  // Our answer, as bittorrent-dht wrote it (handles), leaves as nodes6 and 18-byte values.
  const ours = encode({ t: hex('bb'), y: 'r', r: { id, nodes: Uint8Array.from([...id, ...nodes.subarray(20, 24), 0x1a, 0xe1]), values: [values[0]!] } });
  const sent = decode(outgoing(ours, handles)).value;
  assert.ok(isDict(sent) && isDict(sent.r));
  assert.equal(ipv6Text(sent.r.nodes6 as Uint8Array, 20), 'fd00::1');
  assert.ok(!('nodes' in sent.r));
  assert.equal(ipv6Text((sent.r.values as Uint8Array[])[0]!, 0), 'fd00::9');
  // Queries pass untouched.
  const q = encode({ t: hex('cc'), y: 'q', q: 'ping', a: { id } });
  assert.equal(outgoing(q, handles), q);

  // A full table forgets the address unused longest; its handle is never given to another.
  const a = handles.handle('fd00::a');
  handles.handle('fd00::b');
  assert.equal(handles.size, 3);
  assert.equal(handles.address(h1), undefined, 'fd00::1 was forgotten');
  assert.notEqual(handles.handle('fd00::1'), h1, 'and comes back under a new handle');
  assert.equal(handles.handle('fd00::b'), handles.handle('fd00::b'));
  assert.ok(isHandle(a) && !isHandle('10.0.0.1') && !isHandle('239.255.255.255'));
});
