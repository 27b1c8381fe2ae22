// The TURN part of a tracker's options, checked without loading anything: `cascade tracker`
// validates its arguments before the tracker (and the STUN and TURN code it uses) is imported.

export interface TurnOptions {
  /** `turn:host:port`, `turns:host:port`, each optionally `?transport=udp|tcp` (RFC 7065). */
  urls: string[];
  /** The TURN server's `static-auth-secret`. */
  secret: string;
  /** Seconds a minted credential lasts. Default 86400. */
  ttl?: number;
}

export const DEFAULT_TURN_TTL = 86_400;

// RFC 7065: turn[s]:host[:port][?transport=udp|tcp]; host a name, an IPv4 or a bracketed IPv6 literal.
const TURN_URL = /^turns?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(?:udp|tcp))?$/;

/** Checks one TURN URL; the error names it and says what is wrong. */
export function checkTurnUrl(url: string): string {
  if (/^turns?:\/\//.test(url)) throw new Error(`${url}: a TURN URL has no "//" (turn:host:port)`);
  // Credentials in the URL would be a fixed password, the very thing minted credentials replace.
  if (/^turns?:[^?]*@/.test(url)) throw new Error(`${url}: no user or password in a TURN URL: credentials are minted from the TURN secret`);
  const m = TURN_URL.exec(url);
  const port = m?.[2] === undefined ? 3478 : Number(m[2]);
  if (!m || port < 1 || port > 65535) throw new Error(`${url}: not a TURN URL (turn:host:port or turns:host:port, optionally ?transport=udp or ?transport=tcp)`);
  return url;
}
