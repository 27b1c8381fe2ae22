// Parsing the parts of tracker URLs that clients control: query strings with binary values, and
// the passkey hidden in the path.

export class BadRequest extends Error {}

/** Query values as raw bytes: info_hash and peer_id are binary, so URLSearchParams' UTF-8 decoding would corrupt them. */
export function parseQuery(qs: string): Map<string, Buffer[]> {
  const out = new Map<string, Buffer[]>();
  for (const pair of qs.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = percentDecode(eq >= 0 ? pair.slice(0, eq) : pair).toString('utf8');
    const value = percentDecode(eq >= 0 ? pair.slice(eq + 1) : '');
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

function percentDecode(s: string): Buffer {
  // Most values have no escapes at all.
  if (!/[%+\u0080-\uffff]/.test(s)) return Buffer.from(s, 'latin1');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new BadRequest('malformed percent-encoding');
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c === 0x2b) {
      out.push(0x20);
    } else if (c < 0x80) {
      out.push(c);
    } else {
      out.push(...Buffer.from(s[i]!, 'utf8'));
    }
  }
  return Buffer.from(out);
}

export function bytes(q: Map<string, Buffer[]>, name: string, len: number): Buffer {
  const v = q.get(name)?.[0];
  if (!v) throw new BadRequest(`missing ${name}`);
  if (v.length !== len) throw new BadRequest(`${name} must be ${len} bytes`);
  return v;
}

export function str(q: Map<string, Buffer[]>, name: string): string | undefined {
  return q.get(name)?.[0]?.toString('utf8');
}

export function int(q: Map<string, Buffer[]>, name: string, min: number, max: number, fallback?: number): number {
  const s = str(q, name);
  if (s === undefined || s === '') {
    if (fallback === undefined) throw new BadRequest(`missing ${name}`);
    return fallback;
  }
  const n = /^-?\d{1,20}$/.test(s) ? Number(s) : NaN;
  if (!(n >= min && n <= max)) throw new BadRequest(`invalid ${name}`);
  return n;
}

const PASSKEY = /^[A-Za-z0-9_-]{1,64}$/;

export interface TrackerPath {
  action: 'announce' | 'scrape';
  passkey?: string;
}

/**
 * `/announce`, `/announce/<passkey>` (ours) and `/<passkey>/announce` (the form BEP 48 scrape
 * URL derivation needs), likewise for scrape; anything before those segments is ignored so the
 * tracker can sit under a reverse-proxy prefix. Undefined for other paths.
 */
export function trackerPath(path: string): TrackerPath | undefined {
  const seg = path.split('/').filter((s) => s !== '');
  const last = seg[seg.length - 1];
  const before = seg[seg.length - 2];
  if (last === 'announce' || last === 'scrape') {
    if (before !== undefined && PASSKEY.test(before) && before !== 'announce' && before !== 'scrape') {
      return { action: last, passkey: before };
    }
    return { action: last };
  }
  if ((before === 'announce' || before === 'scrape') && last !== undefined) {
    // A malformed passkey is still a passkey attempt: keep it so private mode can refuse it by name.
    return { action: before, passkey: last };
  }
  return undefined;
}
