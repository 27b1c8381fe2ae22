// Bencode (BEP 3). Our own because hostile input must fail cleanly (depth and size limits) and
// because infohashes need the exact byte span of the `info` dictionary, which generic decoders hide.

export type BValue = number | bigint | Uint8Array | BValue[] | BDict;
export interface BDict { [key: string]: BValue }

export class BencodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BencodeError';
  }
}

const MAX_DEPTH = 64;
const textDecoder = new TextDecoder();
// Keys keep a leading byte-order mark: stripped, "\uFEFFinfo" would read as "info", and a torrent
// holding both keys would give Cascade a different info dictionary (and infohash) than other clients.
const keyDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const textEncoder = new TextEncoder();

export interface DecodeOptions {
  /** Record the raw byte span of a top-level dictionary key (e.g. "info"). */
  spanOf?: string;
  /** Accept trailing bytes after the value (ut_metadata puts the piece after the dict). */
  allowTrailing?: boolean;
}

export interface DecodeResult {
  value: BValue;
  /** Offset just past the decoded value. */
  end: number;
  span?: { start: number; end: number };
}

export function decode(buf: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  let pos = 0;
  let span: { start: number; end: number } | undefined;

  const fail = (what: string): never => {
    throw new BencodeError(`${what} at byte ${pos}`);
  };

  const readInt = (terminator: number): number | bigint => {
    const start = pos;
    let neg = false;
    if (buf[pos] === 0x2d) {
      neg = true;
      pos++;
    }
    const digitsStart = pos;
    while (pos < buf.length && buf[pos] !== terminator) {
      const c = buf[pos]!;
      if (c < 0x30 || c > 0x39) fail('invalid digit in integer');
      pos++;
    }
    if (pos >= buf.length) fail('unterminated integer');
    const digits = pos - digitsStart;
    if (digits === 0) fail('empty integer');
    if (digits > 1 && buf[digitsStart] === 0x30) fail('leading zero in integer');
    if (neg && digits === 1 && buf[digitsStart] === 0x30) fail('negative zero');
    if (digits > 20) fail('integer too long');
    const text = textDecoder.decode(buf.subarray(start, pos));
    pos++; // terminator
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  };

  const readBytes = (): Uint8Array => {
    const len = readInt(0x3a);
    if (typeof len !== 'number' || len < 0) fail('invalid string length');
    const n = len as number;
    if (pos + n > buf.length) fail(`string of ${n} bytes runs past the end`);
    const out = buf.subarray(pos, pos + n);
    pos += n;
    return out;
  };

  const readValue = (depth: number, topLevel: boolean): BValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    if (pos >= buf.length) fail('unexpected end of data');
    const c = buf[pos]!;
    if (c === 0x69) {
      pos++;
      return readInt(0x65);
    }
    if (c >= 0x30 && c <= 0x39) return readBytes();
    if (c === 0x6c) {
      pos++;
      const list: BValue[] = [];
      while (true) {
        if (pos >= buf.length) fail('unterminated list');
        if (buf[pos] === 0x65) break;
        list.push(readValue(depth + 1, false));
      }
      pos++;
      return list;
    }
    if (c === 0x64) {
      pos++;
      const dict: BDict = Object.create(null);
      while (true) {
        if (pos >= buf.length) fail('unterminated dictionary');
        if (buf[pos] === 0x65) break;
        const key = keyDecoder.decode(readBytes());
        // A key given twice would let the last one silently win where other clients may read the
        // first. Keys with invalid UTF-8 (raw infohashes keying a scrape's `files`) are not
        // duplicates just because both decode to U+FFFD, so only clean keys are compared.
        if (key in dict && !key.includes('\uFFFD')) fail(`duplicate dictionary key "${key.slice(0, 40)}"`);
        const valueStart = pos;
        const value = readValue(depth + 1, false);
        if (topLevel && opts.spanOf === key) span = { start: valueStart, end: pos };
        dict[key] = value;
      }
      pos++;
      return dict;
    }
    return fail(`unexpected byte 0x${c.toString(16)}`);
  };

  const value = readValue(0, true);
  if (!opts.allowTrailing && pos !== buf.length) {
    throw new BencodeError(`trailing data after value at byte ${pos}`);
  }
  return { value, end: pos, span };
}

/** Encodes with dictionary keys sorted as raw bytes, as BEP 3 requires. Strings are UTF-8. */
export function encode(value: unknown): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    total += b.length;
  };
  const pushText = (s: string) => push(textEncoder.encode(s));

  const walk = (v: unknown): void => {
    if (v instanceof Uint8Array) {
      pushText(`${v.length}:`);
      push(v);
    } else if (typeof v === 'string') {
      const b = textEncoder.encode(v);
      pushText(`${b.length}:`);
      push(b);
    } else if (typeof v === 'number') {
      if (!Number.isInteger(v)) throw new BencodeError(`cannot encode non-integer ${v}`);
      pushText(`i${v}e`);
    } else if (typeof v === 'bigint') {
      pushText(`i${v}e`);
    } else if (typeof v === 'boolean') {
      pushText(`i${v ? 1 : 0}e`);
    } else if (Array.isArray(v)) {
      pushText('l');
      for (const item of v) if (item !== undefined) walk(item);
      pushText('e');
    } else if (v && typeof v === 'object') {
      pushText('d');
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && x !== null);
      entries.sort(([a], [b]) => compareBytes(textEncoder.encode(a), textEncoder.encode(b)));
      for (const [k, x] of entries) {
        walk(k);
        walk(x);
      }
      pushText('e');
    } else {
      throw new BencodeError(`cannot encode ${typeof v}`);
    }
  };
  walk(value);

  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// Typed accessors: each throws a BencodeError naming the field, so callers get readable messages.
export function text(v: BValue | undefined): string | undefined {
  return v instanceof Uint8Array ? textDecoder.decode(v) : undefined;
}

export function isDict(v: BValue | undefined): v is BDict {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}
