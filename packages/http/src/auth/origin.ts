// What a browser may send the node. Any web page can make a browser send a form POST, or open a
// WebSocket, to localhost: those requests carry an Origin naming the foreign page and are refused
// (tools like curl send no Origin). A page on a domain the attacker controls can also re-point that
// domain at 127.0.0.1 (DNS rebinding) and then be "same-origin" with the node: such requests carry
// the attacker's domain in Host, so only Hosts the node serves are let in.

import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

export function originAllowed(req: Pick<IncomingMessage, 'headers'>, extra: readonly string[] = []): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (extra.includes(origin)) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    // "null" (sandboxed frames, file://) or garbage: not our page.
    return false;
  }
  return host !== '' && host === req.headers.host;
}

/**
 * A Host header the node serves: an IP address (no name to rebind), localhost, or a name the
 * operator listed (`--allowed-host`, for a node behind a domain name). A missing Host (HTTP/1.0
 * tools) passes: a browser always sends one.
 */
export function hostAllowed(hostHeader: string | undefined, allowedHosts: readonly string[] = []): boolean {
  if (hostHeader === undefined) return true;
  const name = hostName(hostHeader);
  if (name === undefined) return false;
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  return allowedHosts.some((h) => h.toLowerCase() === name);
}

/** The name or address in a Host header, lowercase, without port or IPv6 brackets. */
function hostName(host: string): string | undefined {
  const v = host.trim().toLowerCase();
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end < 0 || !/^(:\d{1,5})?$/.test(v.slice(end + 1))) return undefined;
    return v.slice(1, end);
  }
  const m = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(v);
  return m?.[1]?.replace(/\.$/, '');
}
