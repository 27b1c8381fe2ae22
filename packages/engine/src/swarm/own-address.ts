// BEP 10's two address fields. `yourip` tells a peer the address we see it at; peers that reach us
// over IPv6 tell us ours, and once two of them (from different /64s, so one peer cannot decide it)
// name the same routable IPv6 address we send it as `ipv6` to peers that reach us over IPv4: they
// may then dial us over IPv6 too (Transmission reads it; libtorrent 2.0 reads neither field's IPv6
// for this, but sends yourip). An `ipv6` a peer sends us is dialled like a PEX address.
import { dialable6 } from '../wire/extended.ts';
import type { ExtHandshake } from '../wire/extended.ts';
import type { PeerAddress } from '../types.ts';
import { addressGroup, hostOf } from './admission.ts';

const MAX_CANDIDATES = 16;

export class OwnAddresses {
  /** Our IPv6 address as two or more peers agree on it; undefined until then. */
  ipv6: string | undefined;
  private readonly votes = new Map<string, Set<string>>();

  /** A peer at `reporter` said we are `yourIp`. */
  note(yourIp: string, reporter: string): void {
    if (!yourIp.includes(':') || !dialable6(yourIp) || yourIp === '::1') return;
    let v = this.votes.get(yourIp);
    if (!v) {
      if (this.votes.size >= MAX_CANDIDATES) this.votes.delete(this.votes.keys().next().value!);
      this.votes.set(yourIp, (v = new Set()));
    }
    if (v.size < 8) v.add(addressGroup(reporter));
    if (v.size >= 2) this.ipv6 = yourIp;
  }
}

/** The address fields of our extended handshake to a peer whose connection is `remote`. */
export function addressFields(remote: string, transport: string, own: OwnAddresses | undefined): { yourIp?: string; ipv6?: string } {
  if (transport !== 'tcp') return {};
  const host = hostOf(remote);
  const ipv6 = !host.includes(':') ? own?.ipv6 : undefined;
  return ipv6 ? { yourIp: host, ipv6 } : { yourIp: host };
}

/** What a peer's extended handshake teaches: our address (noted) and its IPv6 one (returned, to
 *  dial), when it reached us over IPv4. `outgoing`: we dialled it, so its listen port is the
 *  connection's when it sends none. */
export function learnAddresses(ext: ExtHandshake, remote: string, outgoing: boolean, own: OwnAddresses | undefined): PeerAddress | undefined {
  const host = hostOf(remote);
  if (ext.yourIp) own?.note(ext.yourIp, host);
  if (!ext.ipv6 || host.includes(':') || !dialable6(ext.ipv6)) return undefined;
  const port = ext.port ?? (outgoing ? Number(/:(\d+)$/.exec(remote)?.[1]) : undefined);
  return port && port > 0 && port < 65536 ? { host: ext.ipv6, port } : undefined;
}
