// The iceServers setting (issue 23): STUN and TURN servers for the node's WebRTC peers, handed to its
// web UI too. Stored as RTCIceServer objects; `serve --ice-server URL` takes the URL form with the
// TURN user and password inside it (`turn:user:pass@host:port?transport=tcp`, percent-encoded).
import { fail, isObject } from './validate.ts';
import type { IceServerSetting as IceServer } from '@cascade/shapes';

// As the settings store it (@cascade/shapes' IceServerSetting): its URLs always a list.
export type { IceServer };

export const MAX_ICE_SERVERS = 16;
const MAX_URLS = 8;
const MAX_SECRET_CHARS = 512;

// RFC 7064 (stun:, stuns:) and RFC 7065 (turn:, turns:): host, optional port, and for TURN an
// optional transport. A bracketed IPv6 address or a name/IPv4.
const ICE_URL = /^(stuns?|turns?):(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?)(?::(\d{1,5}))?(\?transport=(?:udp|tcp))?$/;

/** One ICE URL without credentials, checked; the reason when it is not one. */
function urlProblem(url: string): string | undefined {
  const m = ICE_URL.exec(url);
  if (!m) return 'is not a stun:, stuns:, turn: or turns: URL of the form scheme:host[:port][?transport=udp|tcp]';
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return 'has a port outside 1-65535';
  if (m[4] && m[1]!.startsWith('stun')) return 'has a transport, which only turn: and turns: URLs take';
  return undefined;
}

/** Checks the setting's value: a list of {urls, username?, credential?}; TURN needs both secrets. */
export function iceServersSetting(field: string, v: unknown): IceServer[] {
  if (v === null) return []; // `cascade settings iceServers none`
  if (!Array.isArray(v)) fail(field, 'must be a list of {"urls", "username", "credential"} objects');
  if (v.length > MAX_ICE_SERVERS) fail(field, `may hold at most ${MAX_ICE_SERVERS} servers`);
  return v.map((s, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(s)) fail(at, 'must be an object {"urls", "username", "credential"}');
    const unknown = Object.keys(s).find((k) => !['urls', 'username', 'credential'].includes(k));
    if (unknown !== undefined) fail(at, `has an unknown field "${unknown.slice(0, 64)}"`);
    const urls = typeof s.urls === 'string' ? [s.urls] : s.urls;
    if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_URLS || urls.some((u) => typeof u !== 'string')) {
      fail(`${at}.urls`, `must be a URL or a list of 1 to ${MAX_URLS} URLs`);
    }
    for (const u of urls as string[]) {
      const problem = urlProblem(u);
      if (problem) fail(`${at}.urls`, `"${u.slice(0, 100)}" ${problem}`);
    }
    const out: IceServer = { urls: [...(urls as string[])] };
    for (const k of ['username', 'credential'] as const) {
      if (s[k] === undefined) continue;
      if (typeof s[k] !== 'string' || s[k].length === 0 || s[k].length > MAX_SECRET_CHARS) fail(`${at}.${k}`, `must be a string of 1 to ${MAX_SECRET_CHARS} characters`);
      out[k] = s[k];
    }
    const turn = out.urls.some((u) => u.startsWith('turn'));
    if (turn && (out.username === undefined || out.credential === undefined)) fail(at, 'is a TURN server: it needs "username" and "credential"');
    return out;
  });
}

/**
 * The command-line form: `stun:host:port`, `turn:user:pass@host:port[?transport=tcp]`, `turns:…`.
 * User and password may be percent-encoded (a password with ':' or '@' in it). Throws a InvalidInput
 * that names the URL.
 */
export function parseIceServerUrl(text: string): IceServer {
  const field = '--ice-server';
  const m = /^(stuns?|turns?):(?:([^@/?#]*)@)?(.*)$/.exec(text.trim());
  if (!m) fail(field, `"${text.slice(0, 100)}" is not a stun:, stuns:, turn: or turns: URL`);
  const [, scheme, userinfo, rest] = m;
  const url = `${scheme}:${rest}`;
  const problem = urlProblem(url);
  if (problem) fail(field, `"${url.slice(0, 100)}" ${problem}`);
  if (userinfo === undefined) {
    if (scheme!.startsWith('turn')) fail(field, `"${url}" is a TURN server: give its user and password as ${scheme}:USER:PASSWORD@${rest}`);
    return { urls: [url] };
  }
  if (scheme!.startsWith('stun')) fail(field, `"${url}": STUN servers take no user or password`);
  const colon = userinfo.indexOf(':');
  if (colon <= 0 || colon === userinfo.length - 1) fail(field, `"${scheme}:…@${rest}" needs both a user and a password (USER:PASSWORD@)`);
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      fail(field, `the ${what} of "${scheme}:…@${rest}" has a bad percent-encoding`);
    }
  };
  return iceServersSetting(field, [{ urls: [url], username: decode(userinfo.slice(0, colon), 'user'), credential: decode(userinfo.slice(colon + 1), 'password') }])[0]!;
}

/** What a visitor's tab may be given: STUN always; TURN secrets are the node's, for members only. */
export function publicIceServers(list: IceServer[]): IceServer[] {
  return list.filter((s) => s.urls.every((u) => u.startsWith('stun')));
}
