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

/** Deepest nesting of lists and dictionaries accepted (a .torrent needs 4 levels). */
export const MAX_DECODE_DEPTH = 64;
/** Most values (integers, strings, lists, dictionaries, keys) in one input, as libtorrent's
 *  max_decode_tokens: decoding time and memory grow with it, not only with the byte count. */
export const MAX_DECODE_TOKENS = 2_000_000;
const textDecoder = new TextDecoder();
// Keys keep a leading byte-order mark: stripped, "\uFEFFinfo" would read as "info", and a torrent
// holding both keys would give Cascade a different info dictionary (and infohash) than other clients.
const keyDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const textEncoder = new TextEncoder();
/** One array of char codes per length up to 64, refilled for each short ASCII string. */
const ASCII_SCRATCH: number[][] = Array.from({ length: 64 }, (_, i) => new Array<number>(i + 1).fill(0));

/**
 * Which keys of a dictionary to build: any other key's value is checked (syntax, depth, tokens)
 * and skipped without making a single object, 'span' records where a value lies (DecodeResult.spans,
 * by dotted key path) instead of building it, and a nested Shape applies to a dictionary value.
 * A 10 MB .torrent can hold two million values; built, they take hundreds of MB.
 */
export interface Shape {
  [key: string]: true | 'span' | Shape;
}

export interface DecodeOptions {
  /** Record the raw byte span of a top-level dictionary key (e.g. "info"). */
  spanOf?: string;
  /** Accept trailing bytes after the value (ut_metadata puts the piece after the dict). */
  allowTrailing?: boolean;
  /** Where the value starts (default 0); `end` and spans are offsets into `buf` all the same. */
  offset?: number;
  /** Default MAX_DECODE_DEPTH. */
  maxDepth?: number;
  /** Default MAX_DECODE_TOKENS. */
  maxTokens?: number;
  /** Build only these keys of the top-level dictionary (see Shape). Default: everything. */
  shape?: Shape;
  /** Check the value and build nothing (`value` is 0): where does it end? */
  skip?: boolean;
}

export type FieldKind = 'int' | 'text' | 'texts';
export type FieldValue = number | bigint | string | string[] | null;

export interface Span {
  start: number;
  end: number;
}

export interface DecodeResult {
  value: BValue;
  /** Offset just past the decoded value. */
  end: number;
  span?: Span;
  /** The values a Shape marked 'span', by dotted key path ("info.files"). */
  spans: Record<string, Span>;
}

export function decode(buf: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  const r = new BencodeReader(buf, opts);
  r.pos = opts.offset ?? 0;
  const value = opts.skip ? (r.skip(), 0) : r.read(opts.shape, opts.spanOf);
  if (!opts.allowTrailing && r.pos !== buf.length) {
    throw new BencodeError(`trailing data after value at byte ${r.pos}`);
  }
  return { value, end: r.pos, span: r.span, spans: r.spans };
}

/**
 * The decoder, for callers that read many values from one buffer (a .torrent's file list, one
 * entry at a time): set `pos`, call read() or skip(), and `pos` is past the value.
 */
export class BencodeReader {
  pos = 0;
  span: Span | undefined;
  readonly spans: Record<string, Span> = Object.create(null);
  private readonly buf: Uint8Array;
  private readonly maxDepth: number;
  private readonly maxTokens: number;
  private tokens = 0;
  /** Short ASCII keys seen lately: "length" and "path" 100,000 times are one string each. */
  private readonly keys: string[] = [];

  constructor(buf: Uint8Array, limits: { maxDepth?: number; maxTokens?: number } = {}) {
    // A plain view: subarrays of a Node Buffer are Buffers, each a costlier object to make.
    this.buf = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.maxDepth = limits.maxDepth ?? MAX_DECODE_DEPTH;
    this.maxTokens = limits.maxTokens ?? MAX_DECODE_TOKENS;
  }

  /** The value at `pos`, building only what `shape` asks for; `spanOf` records that top-level key's span. */
  read(shape?: Shape, spanOf?: string): BValue {
    return this.value(0, shape, '', spanOf);
  }

  /** Checks the value at `pos` and moves past it, building nothing. */
  skip(depth = 0): void {
    const buf = this.buf;
    if (depth > this.maxDepth) this.fail(`nesting too deep: more than ${this.maxDepth} levels (the limit, maxDecodeDepth)`);
    if (this.pos >= buf.length) this.fail('unexpected end of data');
    this.count();
    const c = buf[this.pos]!;
    if (c === 0x69) {
      this.pos++;
      this.int(0x65, false);
    } else if (c >= 0x30 && c <= 0x39) {
      const n = this.length(); // not `pos += this.length()`: that adds to pos as it was before the call
      this.pos += n;
    } else if (c === 0x6c || c === 0x64) {
      this.pos++;
      while (true) {
        if (this.pos >= buf.length) this.fail(c === 0x6c ? 'unterminated list' : 'unterminated dictionary');
        if (buf[this.pos] === 0x65) break;
        if (c === 0x64) {
          if (buf[this.pos]! < 0x30 || buf[this.pos]! > 0x39) this.fail('dictionary key is not a string');
          this.count();
          const n = this.length();
          this.pos += n;
        }
        this.skip(depth + 1);
      }
      this.pos++;
    } else {
      this.fail(`unexpected byte 0x${c.toString(16)}`);
    }
  }

  /**
   * A dictionary read lean, for the many small ones of a file list: only the keys in `kinds` are
   * kept, as numbers ('int'), JS strings ('text') or arrays of JS strings ('texts'); no Uint8Array
   * or list object is made per value. A field of another type reads as null; other keys are
   * checked and skipped. Undefined (and the value skipped) when there is no dictionary at `pos`.
   */
  fields(kinds: Readonly<Record<string, FieldKind>>): Record<string, FieldValue> | undefined {
    const buf = this.buf;
    if (buf[this.pos] !== 0x64) {
      this.skip();
      return undefined;
    }
    this.count();
    this.pos++;
    const out: Record<string, FieldValue> = Object.create(null);
    while (true) {
      if (this.pos >= buf.length) this.fail('unterminated dictionary');
      if (buf[this.pos] === 0x65) break;
      if (buf[this.pos]! < 0x30 || buf[this.pos]! > 0x39) this.fail('dictionary key is not a string');
      const key = this.key();
      const kind = Object.hasOwn(kinds, key) ? kinds[key] : undefined;
      if (kind === undefined) {
        this.skip(1);
        continue;
      }
      if (key in out) this.fail(`duplicate dictionary key "${key.slice(0, 40)}"`);
      out[key] = this.field(kind);
    }
    this.pos++;
    return out;
  }

  private field(kind: FieldKind): FieldValue {
    const buf = this.buf;
    const c = buf[this.pos]!;
    if (kind === 'int' && c === 0x69) {
      this.count();
      this.pos++;
      return this.int(0x65);
    }
    if (kind === 'text' && c >= 0x30 && c <= 0x39) return this.text();
    if (kind === 'texts' && c === 0x6c) {
      this.count();
      this.pos++;
      const list: string[] = [];
      let ok = true;
      while (true) {
        if (this.pos >= buf.length) this.fail('unterminated list');
        if (buf[this.pos] === 0x65) break;
        const item = buf[this.pos]!;
        if (item >= 0x30 && item <= 0x39) list.push(this.text());
        else {
          ok = false;
          this.skip(2);
        }
      }
      this.pos++;
      // Exactly sized: a pushed-to array keeps room for 17 (180 bytes), and these are kept.
      return ok ? list.slice() : null;
    }
    this.skip(1);
    return null;
  }

  private text(): string {
    this.count();
    const n = this.length();
    this.pos += n;
    const buf = this.buf;
    // Short ASCII (nearly every path component) straight from the bytes: no subarray per string.
    if (n <= ASCII_SCRATCH.length) {
      const codes = ASCII_SCRATCH[n - 1];
      if (codes) {
        let i = 0;
        for (; i < n && buf[this.pos - n + i]! < 0x80; i++) codes[i] = buf[this.pos - n + i]!;
        if (i === n) return String.fromCharCode.apply(null, codes);
      }
    }
    return textDecoder.decode(buf.subarray(this.pos - n, this.pos));
  }

  private fail(what: string): never {
    throw new BencodeError(`${what} at byte ${this.pos}`);
  }

  private count(): void {
    if (++this.tokens > this.maxTokens) this.fail(`more than ${this.maxTokens} bencoded values (the limit, maxDecodeTokens)`);
  }

  // Digits are summed as they are checked: no string is made for the (many) short integers and
  // string lengths. `keep` false only checks (skipped values).
  private int(terminator: number, keep = true): number | bigint {
    const buf = this.buf;
    const start = this.pos;
    let neg = false;
    if (buf[this.pos] === 0x2d) {
      neg = true;
      this.pos++;
    }
    const digitsStart = this.pos;
    let n = 0;
    while (this.pos < buf.length && buf[this.pos] !== terminator) {
      const c = buf[this.pos]!;
      if (c < 0x30 || c > 0x39) this.fail('invalid digit in integer');
      n = n * 10 + (c - 0x30);
      this.pos++;
    }
    if (this.pos >= buf.length) this.fail('unterminated integer');
    const digits = this.pos - digitsStart;
    if (digits === 0) this.fail('empty integer');
    if (digits > 1 && buf[digitsStart] === 0x30) this.fail('leading zero in integer');
    if (neg && digits === 1 && buf[digitsStart] === 0x30) this.fail('negative zero');
    if (digits > 20) this.fail('integer too long');
    this.pos++; // terminator
    if (!keep) return 0;
    if (digits <= 15) return neg ? -n : n;
    const text = textDecoder.decode(buf.subarray(start, this.pos - 1));
    const v = Number(text);
    return Number.isSafeInteger(v) ? v : BigInt(text);
  }

  /** Reads a string's length prefix; pos is left at its first byte. */
  private length(): number {
    const len = this.int(0x3a);
    if (typeof len !== 'number' || len < 0) this.fail('invalid string length');
    const n = len as number;
    if (this.pos + n > this.buf.length) this.fail(`string of ${n} bytes runs past the end`);
    return n;
  }

  private key(): string {
    this.count();
    const n = this.length();
    const start = this.pos;
    this.pos += n;
    const buf = this.buf;
    if (n > 24) return keyDecoder.decode(buf.subarray(start, this.pos));
    for (let i = start; i < this.pos; i++) if (buf[i]! >= 0x80) return keyDecoder.decode(buf.subarray(start, this.pos));
    next: for (const k of this.keys) {
      if (k.length !== n) continue;
      for (let i = 0; i < n; i++) if (k.charCodeAt(i) !== buf[start + i]) continue next;
      return k;
    }
    const k = String.fromCharCode(...buf.subarray(start, this.pos));
    if (this.keys.length < 16) this.keys.push(k);
    return k;
  }

  private value(depth: number, shape: Shape | undefined, path: string, spanOf?: string): BValue {
    const buf = this.buf;
    if (depth > this.maxDepth) this.fail(`nesting too deep: more than ${this.maxDepth} levels (the limit, maxDecodeDepth)`);
    if (this.pos >= buf.length) this.fail('unexpected end of data');
    this.count();
    const c = buf[this.pos]!;
    if (c === 0x69) {
      this.pos++;
      return this.int(0x65);
    }
    if (c >= 0x30 && c <= 0x39) {
      const n = this.length();
      this.pos += n;
      return buf.subarray(this.pos - n, this.pos);
    }
    if (c === 0x6c) {
      this.pos++;
      const list: BValue[] = [];
      while (true) {
        if (this.pos >= buf.length) this.fail('unterminated list');
        if (buf[this.pos] === 0x65) break;
        list.push(this.value(depth + 1, undefined, ''));
      }
      this.pos++;
      return list;
    }
    if (c === 0x64) {
      this.pos++;
      const dict: BDict = Object.create(null);
      while (true) {
        if (this.pos >= buf.length) this.fail('unterminated dictionary');
        if (buf[this.pos] === 0x65) break;
        if (buf[this.pos]! < 0x30 || buf[this.pos]! > 0x39) this.fail('dictionary key is not a string');
        const key = this.key();
        // A key given twice would let the last one silently win where other clients may read the
        // first. Keys with invalid UTF-8 (raw infohashes keying a scrape's `files`) are not
        // duplicates just because both decode to U+FFFD, so only clean keys are compared.
        if (key in dict && !key.includes('\uFFFD')) this.fail(`duplicate dictionary key "${key.slice(0, 40)}"`);
        const want = shape ? (Object.hasOwn(shape, key) ? shape[key] : undefined) : true;
        const valueStart = this.pos;
        if (want === undefined || want === 'span') {
          this.skip(depth + 1);
          if (want === 'span') this.spans[path + key] = { start: valueStart, end: this.pos };
          continue;
        }
        const value = this.value(depth + 1, want === true ? undefined : want, `${path}${key}.`);
        if (spanOf === key) this.span = { start: valueStart, end: this.pos };
        dict[key] = value;
      }
      this.pos++;
      return dict;
    }
    return this.fail(`unexpected byte 0x${c.toString(16)}`);
  }
}

/** Where each of the first `max` items of the list at `offset` lies (input a decode has checked). */
export function listItemSpans(buf: Uint8Array, offset: number, max: number): Span[] {
  const out: Span[] = [];
  if (buf[offset] !== 0x6c) return out;
  let pos = offset + 1;
  while (out.length < max && pos < buf.length && buf[pos] !== 0x65) {
    const end = decode(buf, { offset: pos, allowTrailing: true, skip: true }).end;
    out.push({ start: pos, end });
    pos = end;
  }
  return out;
}

/** A dictionary's entries as raw key bytes and value spans (input a decode has checked): keys that
 *  are binary (BEP 52 `piece layers` is keyed by 32-byte hashes) or must keep their byte order. */
export function dictItemSpans(buf: Uint8Array, offset: number, max: number): { key: Uint8Array; value: Span }[] {
  const out: { key: Uint8Array; value: Span }[] = [];
  if (buf[offset] !== 0x64) return out;
  let pos = offset + 1;
  while (out.length < max && pos < buf.length && buf[pos] !== 0x65) {
    const colon = buf.indexOf(0x3a, pos);
    const keyStart = colon + 1;
    const keyEnd = keyStart + Number(textDecoder.decode(buf.subarray(pos, colon)));
    const end = decode(buf, { offset: keyEnd, allowTrailing: true, skip: true }).end;
    out.push({ key: buf.subarray(keyStart, keyEnd), value: { start: keyEnd, end } });
    pos = end;
  }
  return out;
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
