// Hostile requests to POST /api/torrents for the `upload` target: multipart bodies that are
// malformed (no, empty, wrong or quoted boundary; cut short; huge part headers; broken chunking),
// folder uploads whose paths collide (q and q/r), climb out (..), start at the root, are empty or
// too long or too deep for the disk; .torrent parts that are no torrent; torrents and uploads named
// like a file another torrent owns; and JSON add bodies with garbage magnets, infohashes and URLs —
// every spelling of 127.0.0.1 included (SSRF: the node must refuse them all). Placeholders filled by
// the target: {token}, {canary} (the port of a local HTTP server that must never be hit).

import { encode } from '../../../packages/engine/src/encoding/bencode.ts';
import { freshTorrent } from '../targets/metainfo.ts';
import type { ApiRequest } from './api-requests.ts';
import type { Rng } from './rng.ts';
import type { GenContext } from './target.ts';

/** The name of the file a torrent set up by the target owns (collisions aim at it). */
export const TAKEN = 'taken.bin';

const hex = (rng: Rng, n = 40) => Array.from({ length: n }, () => '0123456789abcdef'[rng.int(16)]).join('');
const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

/** Every way we know to write "this machine" in a URL; none of them may be fetched. */
export function localUrls(port: string): string[] {
  const hosts = [
    '127.0.0.1', '127.1', '127.0.1', '2130706433', '0x7f000001', '0x7f.0.0.1', '0177.0.0.1', '0177.0000.0000.0001', '127.000.000.001',
    '127.255.255.254', '0', '0.0.0.0', '0x0', '[::1]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::]',
    '[0000::1]', '[::ffff:0.0.0.0]', '[64:ff9b::7f00:1]', 'localhost', 'LOCALHOST', 'localhost.', 'LocalHost.', '%31%32%37.0.0.1',
    '127.0.0.1.', '[::ffff:127.0.0.1%25lo]',
  ];
  const out: string[] = [];
  for (const h of hosts) out.push(`http://${h}:${port}/good.torrent`);
  out.push(`http://user:pass@127.0.0.1:${port}/good.torrent`, `http://public.invalid@127.0.0.1:${port}/good.torrent`);
  out.push(`https://127.0.0.1:${port}/good.torrent`, `HTTP://127.0.0.1:${port}/good.torrent`, `http://127.0.0.1:${port}/redirect`);
  return out;
}

function multipartPath(rng: Rng): string {
  return rng.pick([
    'a.bin', 'dir/a.bin', 'q', 'q/r', '../evil', 'a/../../b', '/abs/x', '//x', '\\\\server\\share\\x', 'C:\\x', 'c:x', '', '.', './', '..',
    'dir/', 'a\0b', '\x01\x1f', ' ', 'é/ü.txt', 'x'.repeat(256), `${'y'.repeat(250)}/`.repeat(rng.pick([2, 5, 20])) + 'f',
    'd/'.repeat(rng.pick([10, 600, 3000])) + 'f', TAKEN, `${TAKEN}/inner`, 'a"b', "a'b", 'a;b', 'con', 'a:b', '%2e%2e/x',
  ]);
}

interface Part {
  field: string;
  filename?: string;
  headers?: string;
  data: Buffer;
}

function partsOf(rng: Rng): Part[] {
  const kind = rng.int(10);
  const file = (filename: string, data = Buffer.from(rng.bytes(rng.small(2000)))): Part => ({ field: 'file', filename, data });
  // Colliding names: a file and a folder of one name, in either order, or one name twice.
  if (kind === 0) return rng.pick([['q', 'q/r'], ['q/r', 'q'], ['d/q', 'd/q/r/s'], ['a', 'a'], ['d/x', 'd/x'], ['d/', 'd/x'], [TAKEN, 'other']]).map((n) => file(n));
  // .torrent parts that are not torrents, or torrents of files someone else owns.
  if (kind === 1) {
    const data = rng.pick([
      Buffer.from('not a torrent'), Buffer.from('le'), Buffer.from('d4:infoi5ee'), Buffer.from(rng.bytes(rng.small(3000))), Buffer.alloc(0),
      Buffer.from(encode(freshTorrent(rng))),
      Buffer.from(encode({ info: { length: 5, name: TAKEN, 'piece length': 16384, pieces: Buffer.alloc(20, 7) } })),
      Buffer.from(encode({ info: { files: [{ length: 5, path: ['inner'] }], name: TAKEN, 'piece length': 16384, pieces: Buffer.alloc(20, 7) } })),
    ]);
    const parts: Part[] = [{ field: 'torrent', filename: rng.pick(['x.torrent', '', '../x.torrent']), data }];
    if (rng.chance(0.2)) parts.push(rng.chance(0.5) ? parts[0]! : file('also.bin'));
    return parts;
  }
  // Odd part headers: none, no filename, huge ones, many.
  if (kind === 2) {
    const headers = rng.pick([
      `X-Pad: ${'a'.repeat(rng.pick([1000, 100_000]))}\r\n`, 'X-Pad: a\r\n'.repeat(rng.pick([100, 5000])), 'Content-Type: \r\n',
      'Content-Transfer-Encoding: base64\r\n', 'Content-Disposition: form-data; name="torrent"\r\n', ': x\r\n', 'no colon here\r\n',
    ]);
    return [{ field: rng.pick(['file', 'torrent', '']), filename: multipartPath(rng), headers, data: Buffer.from('some bytes') }];
  }
  // Many fields or many parts (limits: fields 100, files 10,000).
  if (kind === 3) return Array.from({ length: rng.pick([101, 150]) }, (_, i) => ({ field: `f${i}`, data: Buffer.from('v') }));
  const n = rng.chance(0.7) ? 1 : 1 + rng.small(6);
  return Array.from({ length: n }, () => file(multipartPath(rng)));
}

function multipartBody(rng: Rng, boundary: string, parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.field}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${p.headers ?? ''}Content-Type: application/octet-stream\r\n\r\n`, 'latin1'));
    chunks.push(p.data, Buffer.from('\r\n'));
  }
  if (!rng.chance(0.1)) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

function multipartRequest(g: GenContext, h: [string, string][]): ApiRequest {
  const { rng } = g;
  const boundary = rng.chance(0.9) ? `----up${rng.u32().toString(16)}` : rng.pick(['x', 'a'.repeat(70), 'b'.repeat(1000), 'with space', '"quoted"', '--']);
  let body = multipartBody(rng, boundary, partsOf(rng));
  const type = rng.pick([
    `multipart/form-data; boundary=${boundary}`, `multipart/form-data; boundary=${boundary}`, `multipart/form-data; boundary=${boundary}`,
    'multipart/form-data', 'multipart/form-data; boundary=', `multipart/form-data; boundary=other${boundary}`, `multipart/form-data; boundary="${boundary}"`,
    `multipart/form-data; charset=utf-8; boundary=${boundary}`, `MULTIPART/FORM-DATA; BOUNDARY=${boundary}`, `multipart/mixed; boundary=${boundary}`,
    `multipart/form-data; boundary=${boundary}; boundary=x`,
  ]);
  h.push(['Content-Type', type]);
  // Cut short: an honest Content-Length for fewer bytes, or one promising more than ever comes.
  const cut = rng.int(10);
  if (cut === 0) body = body.subarray(0, rng.int(body.length + 1));
  else if (cut === 1) {
    h.push(['Content-Length', String(body.length + 1 + rng.small(100_000))]);
    body = body.subarray(0, rng.int(body.length + 1));
  } else if (cut === 2) {
    // Chunked, with the last chunk (or its terminator) missing or malformed.
    const size = rng.chance(0.5) ? body.length.toString(16) : rng.pick(['zz', '-1', 'ffffffffffffffff', '0']);
    body = Buffer.concat([Buffer.from(`${size}\r\n`), body, Buffer.from(rng.pick(['\r\n0\r\n\r\n', '\r\n', '', '\r\n5\r\nab']))]);
    h.push(['Transfer-Encoding', 'chunked']);
  }
  if (rng.chance(0.15)) body = Buffer.from(g.mutate(body, { dict: ['\r\n', '--', `--${boundary}`, 'filename="..', '"', 'name="torrent"', '\r\n\r\n'], maxLen: 512 * 1024 }));
  return { m: 'POST', p: '/api/torrents', h, b: b64(body) };
}

function jsonBody(rng: Rng): string {
  const magnet = () => {
    const parts = [`xt=urn:btih:${rng.pick([hex(rng), hex(rng, 39), hex(rng, 41), 'Z'.repeat(32), 'a'.repeat(32), '', '%00'.repeat(20)])}`];
    if (rng.chance(0.4)) parts.push(`dn=${rng.pick([TAKEN, '..%2F..%2Fetc', '%zz', 'x'.repeat(5000)])}`);
    if (rng.chance(0.3)) parts.push(`tr=${encodeURIComponent(rng.pick(['http://127.0.0.1:1/announce', 'udp://[::1]:1', 'ws://127.0.0.1:1']))}`);
    if (rng.chance(0.3)) parts.push(`x.pe=${rng.pick(['127.0.0.1:1', '[::1', ':0', 'a:b:c'])}`);
    if (rng.chance(0.2)) parts.push(`so=${rng.pick(['0-9999999', '5-1', Array(500).fill('0-9').join(',')])}`);
    return `magnet:?${parts.join('&')}`;
  };
  const uri = rng.pick<unknown>([
    ...localUrls('{canary}').slice(0, 6), rng.pick(localUrls('{canary}')), rng.pick(localUrls('{canary}')), rng.pick(localUrls('{canary}')),
    'ftp://127.0.0.1/x.torrent', 'file:///etc/passwd', 'gopher://127.0.0.1:{canary}/', 'data:application/x-bittorrent;base64,ZGU=', 'http://', 'http://[::1',
    'http://256.256.256.256/x', 'http://127.0.0.1:99999/x', 'https://[fe80::1%25eth0]/x', 'http://[fc00::1]/x', 'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/x', 'http://192.168.1.1/x', 'http://100.64.0.1/x', 'http://224.0.0.1/x', 'http://[ff02::1]/x',
    magnet(), magnet(), magnet(), hex(rng), hex(rng).toUpperCase(), 'A'.repeat(32), '2'.repeat(32), hex(rng, 39), `  ${hex(rng)}  `,
    '', ' ', 'magnet:', 'magnet:?', 'x'.repeat(rng.pick([100, 100_000])), 5, -1, 1e308, null, true, [], {}, ['magnet:?'], { uri: 'x' },
  ]);
  const body: Record<string, unknown> = { uri };
  if (rng.chance(0.3)) {
    body.peers = rng.pick<unknown>([
      ['127.0.0.1:1'], ['[::1]:2', 'x'], 'x', [5], [null], Array(101).fill('127.0.0.1:1'), ['a'.repeat(400) + ':1'], ['127.0.0.1:0'], {},
    ]);
  }
  if (rng.chance(0.3)) body.paused = rng.pick<unknown>([true, false, 'yes', 1, null]);
  if (rng.chance(0.05)) body[rng.pick(['extra', '__proto__', 'constructor'])] = { polluted: true };
  const forms = rng.int(20);
  if (forms === 0) return '['.repeat(rng.pick([100, 10_000])) + ']'.repeat(rng.pick([0, 10_000]));
  if (forms === 1) return `{"uri":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
  if (forms === 2) return JSON.stringify({ uri: 'x'.repeat(1_100_000) }); // past the 1 MiB body limit
  if (forms === 3) return rng.pick(['', 'null', '"magnet:?"', '5', '{"uri":', '{"uri":"\\ud800"}', '{"uri":"a"}garbage', '\ufeff{"uri":"a"}']);
  return JSON.stringify(body);
}

function jsonRequest(g: GenContext, h: [string, string][]): ApiRequest {
  const { rng } = g;
  let body = Buffer.from(jsonBody(rng));
  if (rng.chance(0.15)) body = Buffer.from(g.mutate(body, { dict: ['{', '}', '"', ':', ',', '"uri"', '"peers"', 'null', '\\u0000'], maxLen: 64 * 1024 }));
  h.push(['Content-Type', rng.pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'text/json', 'application/x-www-form-urlencoded', ''])]);
  return { m: 'POST', p: '/api/torrents', h, b: b64(body) };
}

/** JSON URIs only ever name loopback hosts or reserved ones no resolver answers for; mutated hosts
 *  are kept to IP literals and localhost by the target's DNS guard (lib/netguard.ts). */
export function generateUpload(g: GenContext): ApiRequest {
  const { rng } = g;
  const h: [string, string][] = [];
  if (rng.chance(0.03)) h.push(['Authorization', rng.pick(['Bearer x', 'Bearer ', 'Basic {token}'])]);
  return rng.chance(0.55) ? multipartRequest(g, h) : jsonRequest(g, h);
}
