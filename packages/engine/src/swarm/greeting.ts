// What we say to a peer once its handshake is accepted, in one corked write: our extension
// handshake, what we have, our interest and our DHT port (torrent-swarm.ts onReady).
import { Bitfield } from '../pieces/bitfield.ts';
import type { Picker } from './picker.ts';
import type { Peer } from './peer.ts';
import { ADVERTISED_REQQ } from './pipeline.ts';
import { addressFields, type OwnAddresses } from './own-address.ts';
import type { SuperSeeder } from './super-seed.ts';
import { encodeExtHandshake } from '../wire/extended.ts';

export interface Greeting {
  /** The torrent's info dict's size, once known (BEP 9's metadata_size). */
  metadataSize: number | undefined;
  port: number;
  client: string;
  extensions: string[];
  holepunch: boolean;
  ownAddresses: OwnAddresses | undefined;
  picker: Picker | undefined;
  /** Super-seeding (BEP 16): the peer hears "none" now, and its first pieces later. */
  superSeeder: SuperSeeder | undefined;
  dhtPort: number | undefined;
}

export function greet(peer: Peer, g: Greeting): void {
  peer.conn.cork();
  if (peer.extendedSupported) {
    peer.sendExtended('handshake', encodeExtHandshake({
      metadataSize: g.metadataSize,
      port: g.port,
      client: g.client,
      reqq: ADVERTISED_REQQ,
      extensions: g.extensions,
      holepunch: g.holepunch,
      ...addressFields(peer.conn.remote, peer.conn.transport, g.ownAddresses),
    }));
  }
  // While checking (or before metadata) we have nothing verified: say so now, and send HAVEs
  // once the check ends (peerGotMetadata). Before that fix a peer that arrived during the check
  // heard "have none" and nothing more, and waited forever.
  const { picker } = g;
  if (picker) peer.sendBitfield(g.superSeeder ? new Bitfield(picker.pieceCount) : picker.have);
  else if (peer.fast) peer.sendBitfield(new Bitfield(0));
  peer.haveAnnounced = !!picker;
  // Interested with the bitfield, before we know what the peer has: most peers a download meets
  // have something for it, and a seeder unchokes on interest. Its unchoke then comes back with its
  // bitfield and our first requests go out at once, instead of a round trip later behind whatever
  // both ends do between (issue 40: two Cascade peers sign and check their identity hellos there,
  // which held a download's first request 10-30 ms). A peer with nothing for us hears
  // not-interested once its bitfield or have_none says so (updateInterest, Peer.haveNone): only
  // fast-extension peers, which always send one of them (BEP 6; a plain peer with nothing may
  // send nothing, and would look interesting forever).
  if (picker && !picker.done && peer.fast) peer.setInterested(true);
  if (peer.dhtSupported && g.dhtPort !== undefined) peer.sendPort(g.dhtPort);
  peer.conn.uncork();
}
