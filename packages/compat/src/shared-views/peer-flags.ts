// The letters qBittorrent and Transmission show for a peer's state: who chokes whom, who wants
// what, where it came from and how it is connected. Both clients take them from libtorrent's
// peer_info flags; the letters differ only for uTP (qBittorrent P, Transmission T).
import type { PeerRow } from '../ops.ts';

export interface PeerFlag {
  letter: string;
  meaning: string;
}

export function peerFlags(p: PeerRow, dialect: 'qbittorrent' | 'transmission'): PeerFlag[] {
  const flags: PeerFlag[] = [];
  const add = (on: boolean, letter: string, meaning: string) => void (on && flags.push({ letter, meaning }));
  if (p.amInterested) add(true, p.choked ? 'd' : 'D', p.choked ? 'interested(local) and choked(peer)' : 'interested(local) and unchoked(peer)');
  if (p.interested) add(true, p.amChoking ? 'u' : 'U', p.amChoking ? 'interested(peer) and choked(local)' : 'interested(peer) and unchoked(local)');
  add(!p.amInterested && !p.choked, 'K', 'not interested(local) and unchoked(peer)');
  add(!p.interested && !p.amChoking, '?', 'not interested(peer) and unchoked(local)');
  add(p.optimistic, 'O', 'optimistic unchoke');
  add(p.source === 'incoming', 'I', 'incoming connection');
  add(p.source === 'dht', 'H', 'peer from DHT');
  add(p.source === 'pex', 'X', 'peer from PEX');
  add(p.source === 'lsd', 'L', 'peer from LSD');
  add(p.transport === 'utp', dialect === 'qbittorrent' ? 'P' : 'T', 'μTP');
  return flags;
}
