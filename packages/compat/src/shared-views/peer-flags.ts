// The letters a client shows for a peer's state, one function for every door: qBittorrent's peers
// tab (sync/torrentPeers), Transmission's peers (flagStr) and Cascade's own web UI, which shows
// qBittorrent's letters with words beside them. Both clients derive them from the same facts (who
// chokes whom, who wants what, where the peer came from, how it is connected), but each has its
// own letters and order:
//   qBittorrent (PeerInfo::determineFlags): D/d U/u K ? O S I H X L E e P, each followed by a space;
//   Transmission (peer-mgr's tr_peerMgrPeerStats): T O D/d U/u K ? E H/X I, run together.
// Imported by the web app (`@cascade/compat/swarm-view`): no Node or Fastify here.
import type { PeerStats } from '@cascade/shapes';

/** What the letters are made from (a node's PeerStats, or the web's PeerView). */
export type PeerFlagSource = Pick<PeerStats, 'choked' | 'interested' | 'amChoking' | 'amInterested' | 'optimistic' | 'source' | 'transport'> &
  Partial<Pick<PeerStats, 'incoming' | 'encryption' | 'snubbed'>>;

export interface PeerFlag {
  letter: string;
  /** The client's own explanation (qBittorrent's flags_desc wording). */
  meaning: string;
  /** The same for a person reading Cascade's Peers tab. */
  words: string;
}

export type PeerFlagDialect = 'qbittorrent' | 'transmission';

interface Facts {
  D: boolean; d: boolean; U: boolean; u: boolean; K: boolean; '?': boolean;
  O: boolean; S: boolean; I: boolean; H: boolean; X: boolean; L: boolean; E: boolean; e: boolean; utp: boolean;
}

function facts(p: PeerFlagSource): Facts {
  return {
    D: p.amInterested && !p.choked,
    d: p.amInterested && p.choked,
    U: p.interested && !p.amChoking,
    u: p.interested && p.amChoking,
    K: !p.amInterested && !p.choked,
    '?': !p.interested && !p.amChoking,
    O: p.optimistic,
    S: p.snubbed === true,
    I: p.incoming ?? p.source === 'incoming',
    H: p.source === 'dht',
    X: p.source === 'pex',
    L: p.source === 'lsd',
    E: p.encryption === 'rc4',
    e: p.encryption === 'handshake',
    utp: p.transport === 'utp',
  };
}

const TEXT: Record<string, [meaning: string, words: string]> = {
  D: ['Interested (local) and unchoked (peer)', 'downloading from it'],
  d: ['Interested (local) and choked (peer)', 'we want its pieces; it chokes us'],
  U: ['Interested (peer) and unchoked (local)', 'uploading to it'],
  u: ['Interested (peer) and choked (local)', 'it wants ours; we choke it'],
  K: ['Not interested (local) and unchoked (peer)', 'it unchoked us; we need nothing of it'],
  '?': ['Not interested (peer) and unchoked (local)', 'we unchoked it; it needs nothing of us'],
  O: ['Optimistic unchoke', 'our optimistic unchoke'],
  S: ['Peer snubbed', 'it sits on our requests'],
  I: ['Incoming connection', 'it connected to us'],
  H: ['Peer from DHT', 'found through the DHT'],
  X: ['Peer from PEX', 'found through peer exchange'],
  L: ['Peer from LSD', 'found on the local network'],
  E: ['Encrypted traffic', 'encrypted (RC4)'],
  e: ['Encrypted handshake', 'encrypted handshake only'],
  utp: ['μTP', 'over uTP'],
};

const ORDER: Record<PeerFlagDialect, (keyof Facts)[]> = {
  qbittorrent: ['D', 'd', 'U', 'u', 'K', '?', 'O', 'S', 'I', 'H', 'X', 'L', 'E', 'e', 'utp'],
  // Transmission has no S, L or e: its peers are never marked snubbed, LPD is not a letter, and it
  // calls only an RC4 stream encrypted.
  transmission: ['utp', 'O', 'D', 'd', 'U', 'u', 'K', '?', 'E', 'H', 'X', 'I'],
};

export function peerFlags(p: PeerFlagSource, dialect: PeerFlagDialect): PeerFlag[] {
  const f = facts(p);
  return ORDER[dialect].filter((k) => f[k]).map((k) => {
    const [meaning, words] = TEXT[k]!;
    const letter = k === 'utp' ? (dialect === 'qbittorrent' ? 'P' : 'T') : k;
    return { letter, meaning, words };
  });
}

/** qBittorrent's `flags` ("D U O") and `flags_desc` ("D = Interested (local) and unchoked (peer)" lines). */
export function qbittorrentFlags(p: PeerFlagSource): { flags: string; flags_desc: string } {
  const f = peerFlags(p, 'qbittorrent');
  return { flags: f.map((x) => x.letter).join(' '), flags_desc: f.map((x) => `${x.letter} = ${x.meaning}`).join('\n') };
}

/** Transmission's `flagStr` ("TODUI"). */
export function transmissionFlagStr(p: PeerFlagSource): string {
  return peerFlags(p, 'transmission').map((x) => x.letter).join('');
}
