// The fuzz targets and their default share of a run's inputs. The in-process parsers are fast and
// get most of the budget; targets that go through real sockets (tracker servers, the node's HTTP
// API) are slower per input and get a realistic share.

import type { Target } from '../lib/target.ts';

export const TARGETS: readonly { name: string; weight: number; ext: 'bin' | 'json'; about: string }[] = [
  { name: 'bencode', ext: 'bin', weight: 200, about: 'bencode decode vs a reference decoder, encode round trip' },
  { name: 'metainfo', ext: 'bin', weight: 150, about: 'parseTorrent / parseInfoDict, encodeTorrent round trip' },
  { name: 'magnet', ext: 'bin', weight: 150, about: 'parseMagnet / parseTorrentId, toMagnet round trip' },
  { name: 'wire', ext: 'bin', weight: 150, about: 'peer wire framing in random chunkings (Wire.push)' },
  { name: 'utp', ext: 'bin', weight: 100, about: 'uTP (BEP 29) packet codec and a connection fed a hostile datagram stream' },
  { name: 'extended', ext: 'bin', weight: 100, about: 'BEP 10 handshake, ut_pex, ut_metadata (MetadataExchange), ut_holepunch (Holepunch)' },
  { name: 'tracker-http', ext: 'json', weight: 100, about: 'tracker HTTP handler in-process: announce/scrape/admin/stats' },
  { name: 'tracker-udp', ext: 'bin', weight: 100, about: 'tracker UDP handler in-process: connect/announce/scrape' },
  { name: 'tracker-ws', ext: 'bin', weight: 20, about: 'WebSocket tracker messages to a real tracker on 127.0.0.1' },
  { name: 'tracker-net', ext: 'json', weight: 10, about: 'raw HTTP, UDP and WS upgrades to a real tracker on 127.0.0.1' },
  { name: 'api', ext: 'json', weight: 20, about: 'the node HTTP API (Fastify) on 127.0.0.1, real engine and state DB' },
  { name: 'upload', ext: 'json', weight: 20, about: 'POST /api/torrents: malformed multipart, colliding paths, bad adds, local URLs (SSRF)' },
];

export async function loadTarget(name: string): Promise<Target> {
  if (!TARGETS.some((t) => t.name === name)) throw new Error(`unknown fuzz target "${name}"`);
  const mod = (await import(`./${name}.ts`)) as { target: Target };
  return mod.target;
}
