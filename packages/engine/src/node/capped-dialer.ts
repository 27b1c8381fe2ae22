// Dials to one address (group) are capped as connections from it are: a torrent, tracker or PEX
// message listing one host at many ports must not turn the node into a connection flood against
// it. What is capped is the number of distinct peers (host:port) we dial or hold connections to at
// that address, not connections: one peer that shares many torrents with us (a seedbox, a cluster
// member) gets one connection per torrent, as libtorrent gives it, where a cap on connections let
// only eight of those torrents reach it at once and the rest waited on back-off (a download from
// a node already seeding eight others to us stalled a second, then went over WebRTC). Counted from
// the dial until its connection closes; a refused dial fails like an unreachable peer (the torrent
// retries it later with backoff).
import type { Connection, Dialer } from '../platform.ts';
import { addressGroup } from '../swarm/admission.ts';
import { addressKey } from '../types.ts';

/** Per address group, each peer (host:port) dialled or connected to, with its dials and connections. */
export type OutgoingByGroup = Map<string, Map<string, number>>;

/** `byGroup`: the session's peers per address group (shared by every torrent). */
export function cappedDialer(byGroup: OutgoingByGroup, maxPerAddress: number, inner: Dialer): Dialer {
  return {
    dial: async (addr, signal, opts) => {
      const group = addressGroup(addr.host.replace(/^\[|\]$/g, ''));
      const peer = addressKey(addr);
      let peers = byGroup.get(group);
      const n = peers?.get(peer);
      if (n === undefined && peers && peers.size >= maxPerAddress) throw new Error(`already ${peers.size} peers at ${group} connected or being dialled`);
      if (!peers) byGroup.set(group, (peers = new Map()));
      peers.set(peer, (n ?? 0) + 1);
      const release = () => {
        const left = (peers.get(peer) ?? 1) - 1;
        if (left > 0) peers.set(peer, left);
        else peers.delete(peer);
        if (peers.size === 0 && byGroup.get(group) === peers) byGroup.delete(group);
      };
      let conn: Connection;
      try {
        conn = await inner.dial(addr, signal, opts);
      } catch (err) {
        release();
        throw err;
      }
      conn.onClose(release);
      return conn;
    },
  };
}
