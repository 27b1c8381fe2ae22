// Writes the hand-made hostile inputs into test/fuzz/corpus/ (idempotent: entries are named by
// their SHA-1). Each is a known trap for its parser; corpus.test.ts replays them with the
// findings of fuzz runs. Run after changing this list: node test/fuzz/seed-corpus.ts

import { saveEntry } from './lib/corpus.ts';
import { TARGETS } from './targets/index.ts';
import { ST_DATA, ST_FIN, ST_STATE, ST_SYN, encodePacket, type UtpHeader } from '../../packages/engine/src/utp/packet.ts';

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const cat = (...p: Uint8Array[]) => Uint8Array.from(p.flatMap((x) => [...x]));
const u32 = (...n: number[]) => cat(...n.map((v) => Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255)));
const b64 = (s: string | Uint8Array) => Buffer.from(typeof s === 'string' ? Buffer.from(s, 'latin1') : s).toString('base64');
const pct = (b: Uint8Array) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
const HS = cat(Uint8Array.of(19), latin1('BitTorrent protocol'), new Uint8Array(8), new Uint8Array(20).fill(7), new Uint8Array(20).fill(9));
const info = (extra: string) => `d${extra}4:name1:a12:piece lengthi16384e6:pieces20:${'x'.repeat(20)}e`;
const torrent = (infoBody: string) => latin1(`d8:announce9:http://t/4:info${infoBody}e`);
const ws = (flags: number, message: object) => cat(Uint8Array.of(flags), Buffer.from(JSON.stringify(message)));
const post = (type: string, body: string) => ({ m: 'POST', p: '/api/torrents', h: [['Content-Type', type]], b: b64(body) });
const part = (filename: string) => `--x\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n\r\nabc`;
const ZERO20 = pct(new Uint8Array(20));

// uTP target inputs: a flags byte, then datagrams each behind a 2-byte length (targets/utp.ts).
const utpH = (type: UtpHeader['type'], seq: number, ack: number, extra: Partial<UtpHeader> = {}): UtpHeader => ({ type, connectionId: 0x1234, timestamp: 1, timestampDiff: 0, window: 1 << 20, seq, ack, ...extra });
const dgrams = (flags: number, ...d: Uint8Array[]) => cat(Uint8Array.of(flags), ...d.map((x) => cat(Uint8Array.of(x.length >> 8, x.length & 255), x)));
const UTP_SYN = encodePacket(utpH(ST_SYN, 0xfffe, 0, { connectionId: 0x1233 }));

const inputs: Record<string, [string, Uint8Array | object][]> = {
  utp: [
    ['data across the 16-bit sequence wrap', dgrams(0, UTP_SYN, ...[0xffff, 0, 1].map((q) => encodePacket(utpH(ST_DATA, q, 7), new Uint8Array(100))))],
    ['a selective ACK announced longer than the datagram', dgrams(0, UTP_SYN, cat(encodePacket(utpH(ST_STATE, 0, 7)).subarray(0, 1), Uint8Array.of(1), encodePacket(utpH(ST_STATE, 0, 7)).subarray(2), Uint8Array.of(0, 200, 1, 2)))],
    ['thirty chained unknown extensions', dgrams(0, UTP_SYN, cat(encodePacket(utpH(ST_STATE, 0, 7)).subarray(0, 1), Uint8Array.of(9), encodePacket(utpH(ST_STATE, 0, 7)).subarray(2), new Uint8Array(60).map((_, i) => (i % 2 ? 0 : 9))))],
    ['a zero window, then a window of 4 GiB, and acks of packets never sent', dgrams(2, UTP_SYN, encodePacket(utpH(ST_STATE, 0, 0x8000, { window: 0 })), encodePacket(utpH(ST_STATE, 0, 0x4000, { window: 0xffffffff, sack: new Uint8Array(32).fill(255) })))],
    ['a FIN, then data past it', dgrams(0, UTP_SYN, encodePacket(utpH(ST_FIN, 0xffff, 7)), encodePacket(utpH(ST_DATA, 3, 7), new Uint8Array(10)))],
    ['data 60,000 packets ahead', dgrams(0, UTP_SYN, encodePacket(utpH(ST_DATA, 60_000, 7), new Uint8Array(10)))],
    ['a SYN-ACK naming a SYN we never sent', dgrams(1, encodePacket(utpH(ST_STATE, 9, 1234)), encodePacket(utpH(ST_DATA, 10, 100), new Uint8Array(5)))],
  ],
  bencode: [
    ['65 nested lists: one past the depth limit', latin1('l'.repeat(66) + 'e'.repeat(66))],
    ['string length of 20 nines', latin1('99999999999999999999:x')],
    ['string length past the end', latin1('5:abc')],
    ['negative zero', latin1('i-0e')],
    ['leading zero', latin1('i03e')],
    ['integer beyond 64 bits (decodes to bigint)', latin1('i18446744073709551616e')],
    ['dictionary with an integer key', latin1('di1ei2ee')],
    ['duplicate and unsorted keys', latin1('d1:bi1e1:ai2e1:bi3ee')],
    ['key with a byte-order mark', latin1('d3:\xef\xbb\xbfi1ee')],
    ['trailing garbage', latin1('i1ei2e')],
  ],
  metainfo: [
    ['path component ..', torrent(info('5:filesld6:lengthi1e4:pathl2:..1:xeee'))],
    ['path with a separator', torrent(info('5:filesld6:lengthi1e4:pathl3:a/beeee'))],
    ['drive letter', torrent(info('5:filesld6:lengthi1e4:pathl4:C:abeeee'))],
    ['name ..', latin1(`d4:infod6:lengthi1e4:name2:..12:piece lengthi16384e6:pieces20:${'x'.repeat(20)}ee`)],
    ['piece length 0', latin1(`d4:infod6:lengthi1e4:name1:a12:piece lengthi0e6:pieces20:${'x'.repeat(20)}ee`)],
    ['negative length', torrent(info('6:lengthi-1e'))],
    ['length 2^53 (not a safe integer)', torrent(info('6:lengthi9007199254740992e'))],
    ['pieces not a multiple of 20', latin1('d4:infod6:lengthi1e4:name1:a12:piece lengthi16384e6:pieces3:abcee')],
    ['duplicate file paths', torrent(info('5:filesld6:lengthi1e4:pathl1:xeed6:lengthi1e4:pathl1:xeee'))],
    ['a file that is also a directory', torrent(info('5:filesld6:lengthi1e4:pathl1:xeed6:lengthi1e4:pathl1:x1:yeee'))],
    ['info is a list', latin1('d4:infole')],
  ],
  magnet: [
    ['bad percent-encoding', latin1('magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&dn=%zz')],
    ['so range of a billion files', latin1('magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&so=0-999999999')],
    ['39 hex digits', latin1('magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d5305')],
    ['base32 with a 1', latin1('magnet:?xt=urn:btih:1MZAZDRGSCSOFJU2YCPCKY6UVALYOVDA')],
    ['no xt', latin1('magnet:?dn=x&tr=udp://127.0.0.1:1')],
    ['garbage peer hints', latin1('magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&x.pe=[::1&x.pe=:0&x.pe=a:b:c')],
    [
      '16 KiB of repeated so=0-99999 ranges (took seconds: each copy expanded again)',
      latin1(`magnet:?xt=urn:btih:${'c'.repeat(40)}&so=${Array(2030).fill('0-99999').join(',')}`),
    ],
    ['bare infohash with whitespace', latin1('  C9E15763F722F23E98A29DECDFAE341B98D53056\n')],
  ],
  wire: [
    ['handshake with protocol length 18', cat(u32(1), Uint8Array.of(18), HS.subarray(1))],
    ['message length 2^32-1', cat(u32(2), HS, u32(0xffffffff))],
    ['request for 0 bytes', cat(u32(3), HS, u32(13), Uint8Array.of(6), u32(0, 0, 0))],
    ['piece with an empty block', cat(u32(4), HS, u32(9), Uint8Array.of(7), u32(0, 0))],
    ['extended message without an id', cat(u32(5), HS, u32(1), Uint8Array.of(20))],
    ['have with a 5-byte index', cat(u32(6), HS, u32(6), Uint8Array.of(4), u32(1), Uint8Array.of(0))],
    ['message split byte by byte after a keep-alive', cat(u32(7), HS, u32(0), u32(5), Uint8Array.of(4), u32(0xffffffff))],
  ],
  extended: [
    ['ext handshake with ids -1, 256 and a bigint', cat(Uint8Array.of(0), latin1('d1:md1:ai-1e1:bi256e1:ci18446744073709551616eee'))],
    ['ext handshake that is a list', cat(Uint8Array.of(0), latin1('le'))],
    ['pex with 7 bytes of peers', cat(Uint8Array.of(1), latin1('d5:added7:\x01\x02\x03\x04\x00\x00\x05e'))],
    ['ut_metadata piece -1', cat(Uint8Array.of(2), latin1('d8:msg_typei0e5:piecei-1ee'))],
    ['ut_metadata msg_type 3', cat(Uint8Array.of(2), latin1('d8:msg_typei3e5:piecei0ee'))],
    ['serving: request far past the end', cat(Uint8Array.of(4), Uint8Array.of(0, 30), latin1('d8:msg_typei0e5:piecei9999ee'))],
    ['fetching: data for a piece never asked for', cat(Uint8Array.of(3), Uint8Array.of(0, 42), latin1('d8:msg_typei1e5:piecei99e10:total_sizei5ee'), new Uint8Array(5))],
    // Mode 5, BEP 55: [u16 length][ut_holepunch payload] messages from one peer.
    [
      'holepunch: rendezvous naming the sender, a truncated IPv6 address, address type 7, and a flood of connects',
      cat(Uint8Array.of(5), ...[
        cat(Uint8Array.of(0, 0, 127, 0, 0, 1), Uint8Array.of(0x9c, 0x41)),
        cat(Uint8Array.of(0, 1), new Uint8Array(10)),
        cat(Uint8Array.of(0, 7, 127, 0, 0, 1, 0x1a, 0xe1)),
        ...Array.from({ length: 20 }, (_, i) => cat(Uint8Array.of(1, 0, 198, 18, 0, i), Uint8Array.of(0x1a, 0xe1), u32(0))),
      ].flatMap((m) => [Uint8Array.of(0, m.length), m])),
    ],
  ],
  'tracker-http': [
    ['bad percent-encoding in info_hash', { p: 0, m: 'GET', u: '/announce?info_hash=%zz&peer_id=x&port=1', ip: '127.0.0.1' }],
    ['21-byte info_hash', { p: 0, m: 'GET', u: `/announce?info_hash=${pct(new Uint8Array(21))}&peer_id=${pct(new Uint8Array(20))}&port=1`, ip: '127.0.0.1' }],
    ['101 hashes in one scrape', { p: 0, m: 'GET', u: `/scrape?${Array(101).fill(`info_hash=${pct(new Uint8Array(20))}`).join('&')}`, ip: '127.0.0.1' }],
    ['port 65536, numwant NaN, ip ::1.2.3.4', { p: 0, m: 'GET', u: `/announce?info_hash=${ZERO20}&peer_id=${ZERO20}&port=65536&numwant=NaN&ip=::1.2.3.4`, ip: '127.0.0.1' }],
    ['admin without a token', { p: 1, m: 'POST', u: '/admin/users', ip: '127.0.0.1', b: '{}' }],
    ['admin body that is not JSON', { p: 1, m: 'POST', u: '/admin/users', ip: '127.0.0.1', a: 'Bearer fuzz-admin-token', b: '{' }],
    [
      'admin: a passkey with a space (was an internal error)',
      { p: 1, m: 'POST', u: '/admin/users', ip: '127.0.0.1', a: 'Bearer fuzz-admin-token', b: '{"passkey":"bad key!"}' },
    ],
    ['a 65-character passkey', { p: 1, m: 'GET', u: `/${'k'.repeat(65)}/announce?port=1`, ip: '127.0.0.1' }],
  ],
  'tracker-udp': [
    ['15-byte packet', cat(Uint8Array.of(0), new Uint8Array(15))],
    ['connect with a wrong protocol id', cat(Uint8Array.of(0), new Uint8Array(16))],
    ['announce with a forged connection id', cat(Uint8Array.of(0), u32(0, 1, 1, 2), new Uint8Array(82))],
    ['announce one byte short', cat(Uint8Array.of(1), u32(0, 0, 1, 3), new Uint8Array(81))],
    ['scrape of 75 hashes (over the limit)', cat(Uint8Array.of(1), u32(0, 0, 2, 4), new Uint8Array(75 * 20))],
    ['BEP 41 option running past the end', cat(Uint8Array.of(1), u32(0, 0, 1, 5), new Uint8Array(80), u32(0, 0, 0xffffffff), Uint8Array.of(0, 1, 2, 255, 0x2f))],
    ['announce with event 4', cat(Uint8Array.of(1), u32(0, 0, 1, 6), new Uint8Array(48), u32(0, 0, 0, 0, 0, 0), u32(4, 0, 0, 0xffffffff), Uint8Array.of(0, 1))],
  ],
  'tracker-ws': [
    ['not JSON', cat(Uint8Array.of(0), latin1('{"action":'))],
    ['a JSON array', cat(Uint8Array.of(1), latin1('[1,2]'))],
    ['info_hash with a character above 0xff', ws(2, { action: 'announce', info_hash: '\u0100'.repeat(20), peer_id: 'A'.repeat(20) })],
    [
      'answer before any announce',
      ws(3, { action: 'announce', info_hash: 'a'.repeat(20), peer_id: 'D'.repeat(20), to_peer_id: 'A'.repeat(20), answer: { sdp: 'x' }, offer_id: 'o' }),
    ],
    ['scrape of 101 hashes, as a binary frame', cat(Uint8Array.of(4), Buffer.from(JSON.stringify({ action: 'scrape', info_hash: Array(101).fill('a'.repeat(20)) })))],
  ],
  'tracker-net': [
    ['not HTTP at all', { k: 'http', d: b64('GARBAGE\r\n\r\n') }],
    ['a 9000-byte header', { k: 'http', d: b64(`GET /announce HTTP/1.1\r\nX: ${'a'.repeat(9000)}\r\n\r\n`) }],
    [
      'WebSocket upgrade with version 8',
      {
        k: 'ws',
        d: b64('GET /announce HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 8\r\n\r\n'),
      },
    ],
    ['bad chunked body', { k: 'http', d: b64('POST /announce HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n') }],
    ['UDP garbage', { k: 'udp', d: b64(new Uint8Array(40).fill(0xff)), id: true }],
  ],
  api: [
    ['multipart without a boundary (was a 500)', post('multipart/form-data', `${part('a')}\r\n--x--\r\n`)],
    ['multipart cut off mid-part (was a 500)', post('multipart/form-data; boundary=x', part('a'))],
    ['upload named ../evil', post('multipart/form-data; boundary=x', `${part('../evil')}\r\n--x--\r\n`)],
    ['magnet selecting a billion files', post('application/json', JSON.stringify({ uri: `magnet:?xt=urn:btih:${'c'.repeat(40)}&so=0-999999999` }))],
    ['39-hex infohash in the path', { m: 'GET', p: `/api/torrents/${'a'.repeat(39)}`, h: [] }],
    ['range past the end of a file', { m: 'GET', p: '/api/torrents/{file}/files/0', h: [['Range', 'bytes=99999999-']] }],
    ['select file -1', { m: 'PUT', p: '/api/torrents/{meta}/files', h: [['Content-Type', 'application/json']], b: b64('{"selected":[-1]}') }],
    ['POST from a foreign origin', { m: 'POST', p: '/api/torrents/{file}/pause', h: [['Origin', 'http://evil.example']] }],
    ['text/plain body', post('text/plain', 'magnet:?')],
    ['101 extra peers', post('application/json', JSON.stringify({ uri: 'a'.repeat(40), peers: Array(101).fill('127.0.0.1:1') }))],
  ],
  upload: [
    ['files q and q/r (was a 500 showing the server path)', post('multipart/form-data; boundary=x', `${part('q')}\r\n${part('q/r')}\r\n--x--\r\n`)],
    ['files q/r and q', post('multipart/form-data; boundary=x', `${part('q/r')}\r\n${part('q')}\r\n--x--\r\n`)],
    ['a 40 x 250-byte path (ENAMETOOLONG was a 500)', post('multipart/form-data; boundary=x', `${part(`${'y'.repeat(250)}/`.repeat(40) + 'f')}\r\n--x--\r\n`)],
    ['3000 nested folders', post('multipart/form-data; boundary=x', `${part('d/'.repeat(3000) + 'f')}\r\n--x--\r\n`)],
    ['a 1000-character boundary (was a 500)', post(`multipart/form-data; boundary=${'b'.repeat(1000)}`, `--${'b'.repeat(1000)}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc\r\n--${'b'.repeat(1000)}--\r\n`)],
    [
      'a broken chunk size after the handler started (left the staging folder)',
      { m: 'POST', p: '/api/torrents', h: [['Content-Type', 'multipart/form-data; boundary=x'], ['Transfer-Encoding', 'chunked']], b: b64(`10\r\n${part('a').slice(0, 16)}\r\nzz\r\nabc`) },
    ],
    [
      'an unfinished multipart body, then bytes that are no request (left the staging folder)',
      { m: 'POST', p: '/api/torrents', h: [['Content-Type', 'multipart/form-data; boundary=x'], ['Content-Length', String(part('a').length)]], b: b64(`${part('a')}-garbage\r\n\r\n`) },
    ],
    ['a .torrent part that is not one', post('multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="torrent"; filename="t.torrent"\r\n\r\nnot bencode\r\n--x--\r\n')],
    ['an upload named like the file another torrent owns', post('multipart/form-data; boundary=x', `${part('taken.bin')}\r\n--x--\r\n`)],
    ['a URL to 127.0.0.1 written in decimal', post('application/json', JSON.stringify({ uri: 'http://2130706433:{canary}/good.torrent' }))],
    ['a URL to 127.0.0.1 written in hex', post('application/json', JSON.stringify({ uri: 'http://0x7f000001:{canary}/good.torrent' }))],
    ['a URL to 127.0.0.1 written short', post('application/json', JSON.stringify({ uri: 'http://127.1:{canary}/good.torrent' }))],
    ['a URL to ::ffff:127.0.0.1', post('application/json', JSON.stringify({ uri: 'http://[::ffff:7f00:1]:{canary}/good.torrent' }))],
    ['a URL to localhost', post('application/json', JSON.stringify({ uri: 'http://localhost:{canary}/good.torrent' }))],
    ['a JSON body nested 5000 deep', post('application/json', `{"uri":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`)],
  ],
};

for (const { name, ext } of TARGETS) {
  for (const [why, input] of inputs[name] ?? []) {
    const bytes = input instanceof Uint8Array ? input : new TextEncoder().encode(JSON.stringify(input));
    const file = saveEntry(name, ext, bytes, `hand-made: ${why}`);
    console.log(`${name}: ${file.replace(process.cwd() + '/', '')}  ${why}`);
  }
}
