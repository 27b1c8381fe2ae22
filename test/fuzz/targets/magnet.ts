// Magnet URIs and torrent ids (parseMagnet, parseTorrentId in packages/engine/src/metainfo/magnet.ts).
// Clean error: MetainfoError. Accepted magnets must be well-formed (lowercase 40-hex infohash, 64-hex v2 one,
// sorted in-range `so` indices) and survive toMagnet → parseMagnet unchanged.

import { parseMagnet, parseTorrentId, toMagnet } from '../../../packages/engine/src/metainfo/magnet.ts';
import { MetainfoError, MAX_FILES } from '../../../packages/engine/src/metainfo/metainfo.ts';
import type { MagnetLink } from '../../../packages/engine/src/types.ts';
import type { Rng } from '../lib/rng.ts';
import { check, judge, utf8, type Target } from '../lib/target.ts';

const enc = new TextEncoder();
const HEX = '0123456789abcdef';
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

function hash(rng: Rng): string {
  const r = rng.int(10);
  if (r < 6) return Array.from({ length: 40 }, () => HEX[rng.int(16)]).join('');
  if (r < 8) return Array.from({ length: 32 }, () => B32[rng.int(32)]).join('').toUpperCase();
  if (r < 9 && rng.chance(0.5)) return `1220${Array.from({ length: 64 }, () => HEX[rng.int(16)]).join('')}`;
  return rng.pick(['', 'zz', 'A'.repeat(40), 'g'.repeat(40), '1'.repeat(39), '2'.repeat(33), '%41'.repeat(40)]);
}

function value(rng: Rng, kind: string): string {
  switch (kind) {
    case 'xt': return `urn:${rng.pick(['btih', 'BTIH', 'btmh', 'sha1'])}:${hash(rng)}`;
    case 'dn': return rng.pick(['movie', 'a+b', 'a%20b', '%E2%82%AC', '%', '%zz', '%ff', '%C0%80', 'x'.repeat(rng.small(5000))]);
    case 'tr': return rng.pick(['udp%3A%2F%2F127.0.0.1%3A6969', 'http://127.0.0.1/announce', 'ws://127.0.0.1:1', '', '%25']);
    case 'x.pe': return rng.pick(['127.0.0.1:6881', '[::1]:1', '[::1]', 'host:0', 'host:65536', ':80', 'a:b:1', '[a]b]:5', '1.2.3.4:00080']);
    // The full 100,000-index range is rare: expanding it is most of the time it takes to fuzz.
    case 'so':
      if (rng.chance(0.05)) return rng.pick(['0-99999', '0-100000']);
      return rng.pick(['0', '0,2,4-6', '5-3', '0-999', '99999', '', ',', '1-', '-1', '0-999999999', '1,1,1', ' 3 ', '3-4,0-9,2']);
    default: return rng.pick(['', '=', '&', 'x']);
  }
}

function fresh(rng: Rng): Uint8Array {
  if (rng.chance(0.1)) return enc.encode(rng.chance(0.5) ? hash(rng) : `  ${hash(rng)}\n`);
  const pairs: string[] = [];
  const n = rng.small(8) + 1;
  for (let i = 0; i < n; i++) {
    const key = rng.pick(['xt', 'xt', 'dn', 'tr', 'tr', 'ws', 'x.pe', 'so', 'xl', 'as', 'kt', 'tr.1', 'XT', 'Dn', 'x.pe.2']);
    pairs.push(rng.chance(0.05) ? key : `${key}=${value(rng, key.toLowerCase().replace(/\.\d+$/, ''))}`);
  }
  if (!pairs.some((p) => p.startsWith('xt')) && rng.chance(0.8)) pairs.unshift(`xt=${value(rng, 'xt')}`);
  return enc.encode(`${rng.pick(['magnet:?', 'MAGNET:?', 'magnet:', 'magnet:?&', ' magnet:?'])}${pairs.join(rng.chance(0.95) ? '&' : '&&')}`);
}

const norm = (m: MagnetLink) => JSON.stringify([m.infoHashHex, m.infoHashV2Hex, m.name || undefined, m.trackers, m.peers, m.webSeeds, m.selectOnly]);

function checkLink(m: MagnetLink, roundTrip: boolean): void {
  check(/^[0-9a-f]{40}$/.test(m.infoHashHex), `infohash ${JSON.stringify(m.infoHashHex.slice(0, 50))} is not 40 lowercase hex`);
  if (m.infoHashV2Hex !== undefined) check(/^[0-9a-f]{64}$/.test(m.infoHashV2Hex), `v2 infohash ${JSON.stringify(m.infoHashV2Hex.slice(0, 80))} is not 64 lowercase hex`);
  if (m.selectOnly) {
    const so = m.selectOnly;
    check(
      so.every(([a, b], k) => Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a <= b && b < MAX_FILES && (k === 0 || a > so[k - 1]![1] + 1)),
      'so ranges not sorted, merged and in range',
    );
  }
  if (roundTrip) check(norm(parseMagnet(toMagnet(m))) === norm(m), 'toMagnet → parseMagnet changed the link');
}

export const target: Target = {
  name: 'magnet',
  minimize: true,
  // `so` is kept as merged ranges, so parsing is milliseconds; a second means work beyond the input's size.
  slowMs: 1000,
  mutateOptions: {
    dict: ['&', '=', '%', '%2', '%zz', '%00', '%ff', '+', 'xt=urn:btih:', '&tr=', '&so=', '&x.pe=', '&dn=', '&ws=', '.1', '[', ']:', ':', '-', ',', 'magnet:?'],
    maxLen: 64 * 1024,
  },
  seeds: () =>
    [
      'magnet:?xt=urn:btih:c9e15763f722f23e98a29decdfae341b98d53056&dn=Cosmos+Laundromat&tr=udp%3A%2F%2F127.0.0.1%3A6969&ws=http%3A%2F%2F127.0.0.1%2F&so=0,2,4-6',
      'magnet:?xt=urn:btih:TMZAZDRGSCSOFJU2YCPCKY6UVALYOVDA&x.pe=127.0.0.1:6881&x.pe=[::1]:6881&tr.1=http://127.0.0.1/a&tr.2=http://127.0.0.1/b',
      'magnet:?xt=urn:btmh:1220caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e&xt=urn:btih:631a31dd0a46257d5078c0dee4e66e26f73e42ac',
      'c9e15763f722f23e98a29decdfae341b98d53056',
      'TMZAZDRGSCSOFJU2YCPCKY6UVALYOVDA',
    ].map((s) => enc.encode(s)),
  fresh,
  run: (input) => {
    const s = utf8(input);
    return judge(
      () => {
        const results = [parseMagnet, parseTorrentId].map((parse, i) => {
          try {
            const m = parse(s);
            checkLink(m, i === 0 || !/^magnet:/i.test(s.trim()));
            return m;
          } catch (err) {
            if (!(err instanceof MetainfoError)) throw err;
            return err;
          }
        });
        const [a, b] = results;
        if (/^magnet:/i.test(s.trim())) {
          check((a instanceof MetainfoError) === (b instanceof MetainfoError), 'parseMagnet and parseTorrentId disagree');
          if (!(a instanceof MetainfoError)) check(norm(a!) === norm(b as MagnetLink), 'parseMagnet and parseTorrentId differ');
        }
        if (results.every((r) => r instanceof MetainfoError)) throw a;
      },
      (e) => e instanceof MetainfoError,
    );
  },
};
