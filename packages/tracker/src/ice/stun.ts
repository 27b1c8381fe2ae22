// STUN (RFC 5389) on the UDP tracker port: a node behind NAT asks the trackers it already announces
// to which address and port its packets come from, and needs no STUN server of its own.
// udp.ts hands over every packet with STUN's shape (isStunMessage: the magic cookie at bytes 4-7,
// which no BEP 15 packet carries — see connection-id.ts). Only binding requests are answered.

import type { RemoteInfo } from 'node:dgram';
// The codec's own entry, not @cascade/reachability's index: that also loads the port mapper (UPnP,
// XML parsing), which a tracker never uses and which costs it ~25 MB of RSS.
import { BINDING_REQUEST, bindingSuccess, decodeStun, isStunMessage, type StunAddress } from '@cascade/reachability/stun-message';

export { isStunMessage };

const SOFTWARE = 'cascade-tracker';

/**
 * The answer to a binding request from `r`, or undefined for anything else (indications, answers,
 * other methods, malformed attributes): those go unanswered, so a spoofed packet gets nothing.
 * An answer is at most ~84 bytes over IPv4 (120 over IPv6) for a request of at least 20: a small,
 * fixed factor that the per-IP rate limit in udp.ts bounds, like every STUN server's.
 */
export function stunAnswer(msg: Uint8Array, r: RemoteInfo, origin: StunAddress | undefined): Buffer | undefined {
  let m;
  try {
    m = decodeStun(msg);
  } catch {
    return undefined;
  }
  if (m.type !== BINDING_REQUEST) return undefined;
  const answer = bindingSuccess(m.transactionId, stunAddress(r.address, r.port), { software: SOFTWARE, ...(origin ? { origin } : {}) });
  return Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength);
}

/**
 * An address as STUN reports it. A dual-stack socket sees IPv4 clients as `::ffff:a.b.c.d`; they
 * are IPv4 clients and get an IPv4 mapped address (the one their NAT would show anyone else).
 */
export function stunAddress(address: string, port: number): StunAddress {
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return { family: 4, address: v4[1]!, port };
  // Link-local addresses carry a zone (`fe80::1%eth0`) that has no place in the 16 bytes.
  if (address.includes(':')) return { family: 6, address: address.replace(/%.*$/, ''), port };
  return { family: 4, address, port };
}
