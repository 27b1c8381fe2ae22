// Dials to one address (group) are capped as connections from it are: a torrent, tracker or PEX
// message listing one host at many ports must not turn the node into a connection flood against
// it. Counted from the dial until its connection closes; a refused dial fails like an unreachable
// peer (the torrent retries it later with backoff).
import type { Connection, Dialer } from '../platform.ts';
import { addressGroup } from '../swarm/admission.ts';

/** `byGroup`: the session's dials and open outgoing connections per address group (shared by every torrent). */
export function cappedDialer(byGroup: Map<string, number>, maxPerAddress: number, inner: Dialer): Dialer {
  return {
    dial: async (addr, signal, opts) => {
      const group = addressGroup(addr.host.replace(/^\[|\]$/g, ''));
      const n = byGroup.get(group) ?? 0;
      if (n >= maxPerAddress) throw new Error(`already ${n} connections to ${group}`);
      byGroup.set(group, n + 1);
      const release = () => {
        const left = (byGroup.get(group) ?? 1) - 1;
        if (left > 0) byGroup.set(group, left);
        else byGroup.delete(group);
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
