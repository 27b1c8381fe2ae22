// What kind of NAT stands between this host and the internet, from what STUN servers answer — never
// from address ranges (labs and carrier networks put their "public" side in 10/8, 100.64/10 or
// 198.18/15). One UDP socket asks every server it knows; the mapped address and port they report:
// - equal to the socket's own address: no NAT ("open");
// - the same from servers at different addresses: the mapping does not depend on where packets go
//   (endpoint-independent, a "cone"): a peer that learns it can reach us, so hole punching works;
// - different: a new mapping per destination ("symmetric"): the address a STUN server saw is useless
//   to anyone else, and only a relay (TURN) gets peers through.
// A single server cannot tell the last two apart, unless it names another address of its own
// (RFC 5780's OTHER-ADDRESS), which is then asked too.
import dgram from 'node:dgram';
import type { StunAddress } from './stun-message.ts';
import { stunProbe, type ProbeOptions, type StunServer } from './stun-probe.ts';

export type NatKind = 'open' | 'cone' | 'symmetric' | 'unknown';

export interface NatProbeResult {
  nat: NatKind;
  /** The address the internet sees, when a server answered. */
  externalAddress: string | null;
  /** The local address the default route uses (what the node maps and announces). */
  localAddress: string | null;
  /** Server `host:port` → the mapped `address:port` it reported, or the error. */
  answers: Record<string, string>;
  /** Why `nat` is 'unknown', when it is. */
  reason: string | null;
}

export interface NatProbeOptions extends ProbeOptions {
  /** Bind the probe socket to this address (default: all, like the node's own sockets). */
  bindAddress?: string;
}

export async function probeNat(servers: StunServer[], opts: NatProbeOptions = {}): Promise<NatProbeResult> {
  const answers: Record<string, string> = {};
  const unique = dedupe(servers);
  if (unique.length === 0) return { nat: 'unknown', externalAddress: null, localAddress: null, answers, reason: 'no STUN server known: configure an ICE server or announce to a Cascade tracker' };
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {}); // an ICMP unreachable on one probe must not end the others
    const localAddress = opts.bindAddress && opts.bindAddress !== '0.0.0.0' ? opts.bindAddress : await routeSource(unique[0]!);
    const localPort = socket.address().port;
    const mapped: { server: StunServer; at: StunAddress }[] = [];
    const ask = async (server: StunServer) => {
      try {
        const answer = await stunProbe(socket, server, opts);
        answers[key(server)] = `${answer.mapped.address}:${answer.mapped.port}`;
        mapped.push({ server, at: answer.mapped });
        return answer;
      } catch (err) {
        answers[key(server)] = `error: ${(err as Error).message}`;
        return undefined;
      }
    };
    const first = await Promise.all(unique.map(ask));
    // A lone server that names another address of its own is a second server.
    const ips = new Set(mapped.map((m) => m.server.host));
    if (ips.size < 2) {
      const other = first.find((a) => a?.other && a.other.address !== a.origin?.address)?.other;
      if (other && !ips.has(other.address)) await ask({ host: other.address, port: other.port });
    }
    if (mapped.length === 0) return { nat: 'unknown', externalAddress: null, localAddress, answers, reason: 'no STUN server answered' };
    const externalAddress = mapped[0]!.at.address;
    if (mapped.every((m) => m.at.address === localAddress && m.at.port === localPort)) return { nat: 'open', externalAddress, localAddress, answers, reason: null };
    const distinctServers = new Set(mapped.map((m) => m.server.host)).size;
    const distinctMappings = new Set(mapped.map((m) => `${m.at.address}:${m.at.port}`)).size;
    if (distinctMappings > 1) return { nat: 'symmetric', externalAddress, localAddress, answers, reason: null };
    if (distinctServers > 1) return { nat: 'cone', externalAddress, localAddress, answers, reason: null };
    return { nat: 'unknown', externalAddress, localAddress, answers, reason: 'behind a NAT, but only one STUN server answered: cone or symmetric needs a second one at another address' };
  } finally {
    socket.close();
  }
}

/** The source address the kernel picks to reach `server` (a connected UDP socket sends nothing). */
export async function routeSource(server: StunServer): Promise<string | null> {
  const s = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(server.port, server.host, () => resolve());
    });
    return s.address().address;
  } catch {
    return null;
  } finally {
    s.close();
  }
}

const key = (s: StunServer) => `${s.host}:${s.port}`;

function dedupe(servers: StunServer[]): StunServer[] {
  const seen = new Set<string>();
  return servers.filter((s) => !seen.has(key(s)) && seen.add(key(s)));
}
