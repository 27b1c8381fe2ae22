// Requests for the node's HTTP API (packages/http/src/routes): adds by JSON and multipart, every
// route with good and bad path parameters, query strings and headers. Paths may hold {file},
// {meta}, {magnet} or {added}: the api target puts in the infohash of a torrent it set up (with
// data / with metadata only / from a magnet) or of one a fuzz input added, so routes get past
// the 404 and corpus entries replay against a fresh node.

import { encode } from '../../../packages/engine/src/encoding/bencode.ts';
import { freshTorrent } from '../targets/metainfo.ts';
import type { Rng } from './rng.ts';
import type { GenContext } from './target.ts';
import { modelRequest } from './model-requests.ts';

export interface ApiRequest {
  m: string;
  p: string;
  h: [string, string][];
  /** Body, base64. */
  b?: string;
  /** The whole request, base64: sent as is instead of m/p/h/b. */
  raw?: string;
  /** Sent without the node's API token (which every other request gets, as `{token}`). */
  anon?: boolean;
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const hex = (rng: Rng, n = 40) => Array.from({ length: n }, () => '0123456789abcdef'[rng.int(16)]).join('');

export function infoHashParam(rng: Rng): string {
  return rng.pick([
    '{file}', '{meta}', '{magnet}', '{added}', '{added}', '{file}',
    hex(rng), hex(rng).toUpperCase(), hex(rng, 39), hex(rng, 41), 'x'.repeat(40), '%20', '..', '{file}%00', '',
  ]);
}

function magnet(rng: Rng): string {
  const parts = [`xt=urn:btih:${rng.chance(0.8) ? hex(rng) : Array.from({ length: 32 }, () => B32[rng.int(32)]).join('')}`];
  if (rng.chance(0.5)) parts.push(`dn=${rng.pick(['movie', 'a%20b', '..%2F..%2Fetc', '%zz', 'é'])}`);
  // Only loopback trackers and peers; the net guard refuses anything a mutation turns them into.
  if (rng.chance(0.5)) parts.push(`tr=${encodeURIComponent(rng.pick(['http://127.0.0.1:1/announce', 'udp://127.0.0.1:1', 'ws://127.0.0.1:1']))}`);
  if (rng.chance(0.3)) parts.push(`x.pe=${rng.pick(['127.0.0.1:1', '[::1]:1', 'bad'])}`);
  if (rng.chance(0.2)) parts.push(`so=${rng.pick(['0', '0-3', '5-1', '0-999999999'])}`);
  return `magnet:?${parts.join('&')}`;
}

function addJson(rng: Rng, torrentHost: string): unknown {
  const uri = rng.pick([
    magnet(rng), magnet(rng), hex(rng), Array.from({ length: 32 }, () => B32[rng.int(32)]).join(''),
    `${torrentHost}/good.torrent`, `${torrentHost}/garbage.torrent`, `${torrentHost}/empty`, `${torrentHost}/missing`, `${torrentHost}/big`,
    'http://127.0.0.1:1/x.torrent', 'ftp://x', '', ' ', 'magnet:?', 'x'.repeat(rng.chance(0.1) ? 20000 : 10),
  ]);
  const body: Record<string, unknown> = { uri: rng.chance(0.95) ? uri : rng.pick([5, null, [], {}]) };
  if (rng.chance(0.3)) {
    const peer = () => rng.pick(['127.0.0.1:1', '[::1]:2', 'x', '', 'a:b', '127.0.0.1:99999']);
    body.peers = rng.chance(0.8) ? Array.from({ length: rng.small(5) }, peer) : rng.pick(['x', [5], Array(101).fill('127.0.0.1:1')]);
  }
  if (rng.chance(0.6)) body.paused = rng.chance(0.9) ? rng.chance(0.7) : rng.pick(['yes', 1, null]);
  if (rng.chance(0.05)) body.extra = 1;
  return rng.chance(0.97) ? body : rng.pick([[], 'magnet', 5, null]);
}

function multipart(rng: Rng): { body: Buffer; type: string } {
  const boundary = `----fuzz${rng.u32().toString(16)}`;
  const parts: Buffer[] = [];
  const n = rng.chance(0.8) ? 1 : rng.small(5);
  for (let i = 0; i < n; i++) {
    const field = rng.pick(['torrent', 'torrent', 'file', 'file', 'files[]', '']);
    const name = rng.pick(['a.torrent', 'clip.mp4', 'dir/sub/file.txt', '../evil', '/abs', 'C:\\x', 'a\0b', '', '.', 'x'.repeat(300), 'é.txt', 'dir/', 'a"b']);
    const data = field === 'torrent' ? Buffer.from(encode(freshTorrent(rng))) : Buffer.from(rng.bytes(rng.small(4000)));
    const disposition = `form-data; name="${field}"${rng.chance(0.9) ? `; filename="${name}"` : ''}`;
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`));
    parts.push(data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

export function serialize(r: ApiRequest): Buffer {
  if (r.raw !== undefined) return Buffer.from(r.raw, 'base64');
  const body = r.b ? Buffer.from(r.b, 'base64') : undefined;
  const headers = [['Host', '127.0.0.1'], ['Connection', 'close'], ...r.h];
  if (body && !r.h.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) headers.push(['Content-Length', String(body.length)]);
  const head = `${r.m} ${r.p} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

const JSON_TOKENS = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e999', '"uri"', '"peers"', '"paused"', '"selected"', '\\u0000', '-1'];
const HTTP_TOKENS = [
  '\r\n', ' ', ':', '%', '%zz', '%00', '?', '&', '=', '/', '..', '\n',
  'Content-Length: 0\r\n', 'Transfer-Encoding: chunked\r\n', 'Range: bytes=0-\r\n',
];

const SIGN_IN_TOKENS = ['"did"', '"siwe"', '"method"', '"message"', '"signature"', '"binding"', 'did:key:z6Mk', '0x', '\n', 'Nonce: '];

/** Sign-in, sign-out, claim and member management, with bodies from good to garbage. */
function authRequest(g: GenContext, h: [string, string][]): ApiRequest {
  const { rng } = g;
  const did = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
  const address = '0x' + 'ab'.repeat(20);
  const bodies: unknown[] = [
    { method: 'did', did }, { method: 'siwe', address, chainId: rng.pick([1, 0, -1, 2 ** 60, '1']) }, { method: 'did' }, { method: 'x' },
    { message: `Cascade sign-in\n\nNonce: ${'a'.repeat(32)}`, signature: 'A'.repeat(86) }, { message: 'x', signature: 'y', binding: { v: 1, did, address } },
    { id: rng.pick([did, address, 'root', '', 'did:key:z' + '1'.repeat(100)]) }, [], null,
  ];
  let body = Buffer.from(JSON.stringify(rng.pick(bodies)));
  if (rng.chance(0.3)) body = Buffer.from(g.mutate(body, { dict: [...JSON_TOKENS, ...SIGN_IN_TOKENS], maxLen: 16 * 1024 }));
  h.push(['Content-Type', 'application/json']);
  const route = rng.pick(['/api/auth/challenge', '/api/auth/verify', '/api/auth/logout', '/api/auth/claim', '/api/users', `/api/users/${rng.pick([did, address, 'x', '%00'])}`]);
  const m = route.startsWith('/api/users/') ? 'DELETE' : 'POST';
  return { m, p: route, h, b: body.toString('base64'), ...(rng.chance(0.5) ? { anon: true } : {}) };
}

const RSS_TOKENS = ['"url"', '"refreshInterval"', '"name"', '"mustContain"', '"useRegex"', '"episodeFilter"', '"feeds"', '"savePath"', '"tags"', '(a+)+$', '1x', ';', '-', 'S01E'];

/** RSS feeds, rules, previews and settings (/api/rss/…), with bodies from good to garbage. */
function rssRequest(g: GenContext, h: [string, string][], torrentHost: string): ApiRequest {
  const { rng } = g;
  // Feeds on the test host answer at once (a .torrent, garbage, 404, 64 MiB): never a slow read.
  const url = rng.pick([`${torrentHost}/good.torrent`, `${torrentHost}/garbage.torrent`, `${torrentHost}/big`, `${torrentHost}/nope`, 'x', 'ftp://a/b', '', 'http://', `${torrentHost}/${'a'.repeat(3000)}`]);
  const id = rng.pick(['1', '2', '0', '-1', 'x', '99999999999999999999', '1.5', '%00']);
  const rule = {
    name: rng.pick(['r', '', ' ', 'x'.repeat(300), 7]),
    mustContain: rng.pick(['show 1080p', 'a|b', '(', '^(a+)+$', '[z-a]', '', 'x'.repeat(600), 1]),
    mustNotContain: rng.pick(['cam', '', ')', null]),
    useRegex: rng.pick([true, false, 'yes']),
    episodeFilter: rng.pick(['1x2;8-15;30-;', 'S01E05-S01E10', '1x9-3;', 'S01E05-', 'x', '', '99999x1;']),
    feeds: rng.pick([[], [1], [99], 'all', [1.5]]),
    savePath: rng.pick(['/tmp/rss', 'relative', '', null, '/' + 'a'.repeat(2000)]),
    tags: rng.pick([['a'], ['a,b'], 'a', [1], []]),
  };
  const drop = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(() => rng.chance(0.6)));
  const pick = rng.int(9);
  const body = (v: unknown) => {
    let b = Buffer.from(JSON.stringify(v) ?? '');
    if (rng.chance(0.3)) b = Buffer.from(g.mutate(b, { dict: [...JSON_TOKENS, ...RSS_TOKENS], maxLen: 16 * 1024 }));
    h.push(['Content-Type', 'application/json']);
    return b.toString('base64');
  };
  if (pick === 0) return { m: 'POST', p: '/api/rss/feeds', h, b: body(drop({ url, refreshInterval: rng.pick([60, 30, null, '5', 1e12, 600]) })) };
  if (pick === 1) return { m: 'PATCH', p: `/api/rss/feeds/${id}`, h, b: body(drop({ url, refreshInterval: rng.pick([120, 0, null]) })) };
  if (pick === 2) return { m: rng.pick(['DELETE', 'GET']), p: `/api/rss/feeds/${id}${rng.pick(['', '/items'])}`, h };
  if (pick === 3) return { m: 'POST', p: `/api/rss/feeds/${id}/${rng.pick(['refresh', 'read'])}`, h, b: body(rng.pick([{}, { guids: ['a'] }, { guids: 'a' }, { read: 'x' }])) };
  if (pick === 4) return { m: 'POST', p: '/api/rss/rules', h, b: body(drop(rule)) };
  if (pick === 5) return { m: 'PATCH', p: `/api/rss/rules/${id}`, h, b: body(drop(rule)) };
  if (pick === 6) return { m: 'POST', p: rng.chance(0.5) ? '/api/rss/rules/preview' : `/api/rss/rules/${id}/preview`, h, b: body(drop(rule)) };
  if (pick === 7) return { m: 'PATCH', p: '/api/rss/settings', h, b: body(drop({ refreshInterval: rng.pick([60, 10, '60']), maxItemsPerFeed: rng.pick([1, 0, 10001, 200]) })) };
  return { m: rng.pick(['GET', 'DELETE']), p: rng.pick(['/api/rss/feeds', '/api/rss/rules', '/api/rss/matches', '/api/rss/settings', `/api/rss/rules/${id}`]), h };
}

export function generateRequest(g: GenContext, torrentHost: string): ApiRequest {
  const { rng } = g;
  const h: [string, string][] = [];
  // Most requests come as the operator, so the routes behind the gate get fuzzed; some as nobody,
  // some with a wrong token or a forged session cookie.
  const who = rng.int(100);
  if (who >= 90 && who < 95) h.push(['Authorization', rng.pick(['Bearer x', 'Bearer {token}x', 'Basic {token}', 'Bearer ', '{token}'])]);
  else if (who >= 95) h.push(['Cookie', rng.pick(['cascade_session=' + 'A'.repeat(43), 'cascade_session=', 'cascade_session={token}; cascade_session=x'])]);
  if (rng.chance(0.05)) h.push(['Origin', rng.pick(['http://evil.example', 'null', 'http://127.0.0.1', 'x'])]);
  if (rng.chance(0.05)) {
    h.push([rng.pick(['Accept', 'X-Forwarded-For', 'Cookie', 'Accept-Encoding']), rng.pick(['*/*', 'gzip', '1.2.3.4', 'a'.repeat(rng.pick([10, 10000]))])]);
  }
  const json = (v: unknown) => {
    let b = Buffer.from(JSON.stringify(v) ?? '');
    if (rng.chance(0.25)) b = Buffer.from(g.mutate(b, { dict: JSON_TOKENS, maxLen: 64 * 1024 }));
    const odd = ['application/json; charset=latin1', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=utf-8'];
    h.push(['Content-Type', rng.chance(0.93) ? 'application/json' : rng.pick(odd)]);
    return b.toString('base64');
  };
  const ih = infoHashParam(rng);
  const r = rng.int(100);
  let req: ApiRequest;
  if (r < 30) req = { m: 'POST', p: '/api/torrents', h, b: json(addJson(rng, torrentHost)) };
  else if (r < 40) {
    const mp = multipart(rng);
    let body = mp.body;
    const dict = ['\r\n', '--', 'Content-Disposition: form-data; name="torrent"', 'filename="..', '"'];
    if (rng.chance(0.3)) body = Buffer.from(g.mutate(body, { dict, maxLen: 256 * 1024 }));
    h.push(['Content-Type', rng.chance(0.95) ? mp.type : 'multipart/form-data']);
    req = { m: 'POST', p: '/api/torrents', h, b: body.toString('base64') };
  } else if (r < 52) req = { m: 'GET', p: `/api/torrents/${ih}${rng.pick(['', '', '/torrent', '?x=1', '/'])}`, h };
  else if (r < 62) {
    const idx = rng.pick(['0', '0', '1', '2', '99', '-1', '1.5', 'x', '4294967296', '']);
    const q = rng.chance(0.3) ? `?download=${rng.pick(['true', 'false', '1', 'x', ''])}` : '';
    const ranges = ['bytes=0-', 'bytes=0-99', 'bytes=-100', 'bytes=100-50', 'bytes=99999999-', 'bytes=0-1,5-6', 'bytes=-0', 'items=0-1'];
    ranges.push(`bytes=${rng.small(1e6)}-${rng.small(1e6)}`, 'bytes=00000000000000000000001-', 'bytes=9007199254740993-');
    if (rng.chance(0.6)) h.push(['Range', rng.pick(ranges)]);
    req = { m: rng.chance(0.9) ? 'GET' : 'HEAD', p: `/api/torrents/${ih}/files/${idx}${q}`, h };
  } else if (r < 70) req = { m: 'POST', p: `/api/torrents/${ih}/${rng.pick(['pause', 'resume'])}`, h };
  else if (r < 76) {
    // The set-up torrents stay: deleting them would leave later inputs nothing to reach.
    const target = ih === '{file}' || ih === '{meta}' || ih === '{magnet}' ? '{added}' : ih;
    req = { m: 'DELETE', p: `/api/torrents/${target}${rng.chance(0.5) ? `?deleteData=${rng.pick(['true', 'false', 'x', ''])}` : ''}`, h };
  } else if (r < 84) {
    const index = () => rng.pick([0, 1, 2, 3, -1, 1.5, 99, 2 ** 53, '1']);
    const sel = rng.chance(0.9) ? { selected: Array.from({ length: rng.small(6) }, index) } : rng.pick([{}, { selected: 'x' }, { selected: [0], x: 1 }, []]);
    req = { m: 'PUT', p: `/api/torrents/${ih}/files`, h, b: json(sel) };
  } else if (r < 86) {
    req = authRequest(g, h);
  } else if (r < 88) {
    req = rssRequest(g, h, torrentHost);
  } else if (r < 91) {
    req = modelRequest(g, h, ih, (v, tokens) => {
      let b = Buffer.from(JSON.stringify(v) ?? '');
      if (rng.chance(0.3)) b = Buffer.from(g.mutate(b, { dict: [...JSON_TOKENS, ...tokens], maxLen: 16 * 1024 }));
      h.push(['Content-Type', 'application/json']);
      return b.toString('base64');
    });
  } else if (r < 94) {
    const paths = ['/api/health', '/api/torrents', '/api/torrents?x=%zz', '/api/docs/json', '/', '/index.html', '/api/', '/api/nope'];
    paths.push('/api/auth/me', '/api/identity', '/api/users');
    paths.push('/socket.io/?EIO=4&transport=polling', '/%2e%2e/%2e%2e/etc/passwd', '//api//torrents');
    req = { m: rng.pick(['GET', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PATCH']), p: rng.pick(paths), h };
  } else {
    const inner = generateRequest(g, torrentHost);
    const base = serialize(inner.anon || inner.h.some(([k]) => /^(authorization|cookie)$/i.test(k)) ? inner : { ...inner, h: [...inner.h, ['Authorization', 'Bearer {token}']] });
    return { m: '', p: '', h: [], raw: Buffer.from(g.mutate(base, { dict: HTTP_TOKENS, maxLen: 256 * 1024 })).toString('base64') };
  }
  if (rng.chance(0.1)) {
    const p = g.mutate(Buffer.from(req.p, 'latin1'), { dict: ['%', '%zz', '/', '..', '?', '#', '{file}', ';'] });
    req.p = Buffer.from(p).toString('latin1').replace(/[\s]/g, '');
  }
  return req;
}
