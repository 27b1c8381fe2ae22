// Which addresses a URL the node is asked to fetch may reach. By default only public ones: a link
// handed to the node must not make it a proxy into its own machine or LAN (SSRF). The check is on
// resolved addresses, so every spelling of an address (decimal, hex, short IPv4, IPv6, a name
// that resolves to it) lands on the same test, and the connection is pinned to the address that
// was checked, so a name cannot resolve differently between the check and the connect.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some)
  ['ff00::', 8], // multicast
] as const) blocked.addSubnet(net, bits, 'ipv6');

/** An IPv4 address carried inside an IPv6 one (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96). */
function embeddedIpv4(v6: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(v6);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True for loopback, private, link-local, unique-local, multicast, unspecified and reserved. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    return v4 !== undefined ? blocked.check(v4, 'ipv4') : blocked.check(address, 'ipv6');
  }
  return true; // not an address at all: refuse
}

export class UrlRefused extends Error {}

/**
 * The address to connect to for `url`: its host resolved, every answer checked (one private answer
 * refuses the URL: a name may not point both ways), the first one used.
 */
export type PrivateAllowance = boolean | ((address: string) => boolean);

/** family: the address to connect to is one of that family (every answer is checked all the same). */
export async function resolveAllowed(url: URL, allowPrivate: PrivateAllowance, family?: 4 | 6): Promise<{ address: string; family: 4 | 6 }> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlRefused(`only http and https URLs can be fetched, not ${url.protocol}`);
  // URL has already normalised 2130706433, 0x7f.1 and 127.1 to 127.0.0.1; IPv6 comes bracketed.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let answers: { address: string; family: number }[];
  if (isIP(host)) answers = [{ address: host, family: isIP(host) }];
  else {
    try {
      answers = await lookup(host, { all: true, verbatim: true });
    } catch (err) {
      throw new UrlRefused(`cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (answers.length === 0) throw new UrlRefused(`cannot resolve ${host}`);
  if (allowPrivate !== true) {
    const exempt = typeof allowPrivate === 'function' ? allowPrivate : () => false;
    const bad = answers.find((a) => isPrivateAddress(a.address) && !exempt(a.address));
    if (bad) {
      throw new UrlRefused(
        `${url.host} is ${bad.address === host ? 'a' : `${bad.address}, a`} local or private address; this node fetches public URLs only (start it with --allow-private-urls to allow them)`,
      );
    }
  }
  const pick = family ? answers.find((a) => a.family === family) : answers[0];
  if (!pick) throw new UrlRefused(`${host} has no IPv${family} address`);
  return { address: pick.address, family: pick.family === 6 ? 6 : 4 };
}
