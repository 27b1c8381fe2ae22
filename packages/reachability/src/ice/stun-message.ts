// STUN messages (RFC 5389, with RFC 5780's OTHER-ADDRESS and RESPONSE-ORIGIN): just what a binding
// request and its answer need. Both ends use it: the tracker answers binding requests on its UDP port,
// the node asks trackers and STUN servers what address its packets come from.
// Platform-free: Uint8Array and DataView only.

export const MAGIC_COOKIE = 0x2112a442;
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const BINDING_ERROR = 0x0111;

export const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  CHANGE_REQUEST: 0x0003,
  ERROR_CODE: 0x0009,
  UNKNOWN_ATTRIBUTES: 0x000a,
  XOR_MAPPED_ADDRESS: 0x0020,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
  RESPONSE_ORIGIN: 0x802b,
  OTHER_ADDRESS: 0x802c,
} as const;

const HEADER = 20;
const FINGERPRINT_XOR = 0x5354554e;

export interface StunAddress {
  family: 4 | 6;
  address: string;
  port: number;
}

export interface StunMessage {
  type: number;
  transactionId: Uint8Array;
  attributes: { type: number; value: Uint8Array }[];
}

/**
 * True when `b` has the shape of a STUN message: the two top bits zero, the magic cookie at bytes
 * 4-7, a length that matches. A tracker uses this to tell STUN from BEP 15 on one UDP port: a BEP 15
 * request starts with the protocol id (connect) or a connection id the tracker issued, and the
 * tracker never issues one whose bytes 4-7 are the cookie.
 */
export function isStunMessage(b: Uint8Array): boolean {
  if (b.length < HEADER || (b[0]! & 0xc0) !== 0) return false;
  const v = view(b);
  const length = v.getUint16(2);
  return v.getUint32(4) === MAGIC_COOKIE && length % 4 === 0 && HEADER + length === b.length;
}

export function decodeStun(b: Uint8Array): StunMessage {
  if (!isStunMessage(b)) throw new Error('not a STUN message');
  const v = view(b);
  const attributes: StunMessage['attributes'] = [];
  let at = HEADER;
  while (at + 4 <= b.length) {
    const type = v.getUint16(at);
    const length = v.getUint16(at + 2);
    if (at + 4 + length > b.length) throw new Error('STUN attribute runs past the message');
    attributes.push({ type, value: b.slice(at + 4, at + 4 + length) });
    at += 4 + pad4(length);
  }
  return { type: v.getUint16(0), transactionId: b.slice(8, HEADER), attributes };
}

export function encodeStun(type: number, transactionId: Uint8Array, attributes: StunMessage['attributes'] = [], fingerprint = true): Uint8Array {
  if (transactionId.length !== 12) throw new Error('a STUN transaction id is 12 bytes');
  const bodyLength = attributes.reduce((n, a) => n + 4 + pad4(a.value.length), 0) + (fingerprint ? 8 : 0);
  const out = new Uint8Array(HEADER + bodyLength);
  const v = view(out);
  v.setUint16(0, type);
  v.setUint16(2, bodyLength);
  v.setUint32(4, MAGIC_COOKIE);
  out.set(transactionId, 8);
  let at = HEADER;
  for (const a of attributes) {
    v.setUint16(at, a.type);
    v.setUint16(at + 2, a.value.length);
    out.set(a.value, at + 4);
    at += 4 + pad4(a.value.length);
  }
  if (fingerprint) {
    v.setUint16(at, ATTR.FINGERPRINT);
    v.setUint16(at + 2, 4);
    // The CRC covers the message up to the fingerprint, with the length already counting it.
    v.setUint32(at + 4, (crc32(out.subarray(0, at)) ^ FINGERPRINT_XOR) >>> 0);
  }
  return out;
}

export function newTransactionId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(12));
}

export function bindingRequest(transactionId = newTransactionId(), opts: { changeIp?: boolean; changePort?: boolean } = {}): Uint8Array {
  const attrs: StunMessage['attributes'] = [];
  if (opts.changeIp || opts.changePort) {
    const value = new Uint8Array(4);
    value[3] = (opts.changeIp ? 4 : 0) | (opts.changePort ? 2 : 0);
    attrs.push({ type: ATTR.CHANGE_REQUEST, value });
  }
  return encodeStun(BINDING_REQUEST, transactionId, attrs);
}

/** The answer to a binding request from `from`; `origin` and `other` (RFC 5780) when the server knows them. */
export function bindingSuccess(transactionId: Uint8Array, from: StunAddress, opts: { origin?: StunAddress; other?: StunAddress; software?: string } = {}): Uint8Array {
  const attrs: StunMessage['attributes'] = [
    { type: ATTR.XOR_MAPPED_ADDRESS, value: encodeAddress(from, transactionId, true) },
    { type: ATTR.MAPPED_ADDRESS, value: encodeAddress(from, transactionId, false) },
  ];
  if (opts.origin) attrs.push({ type: ATTR.RESPONSE_ORIGIN, value: encodeAddress(opts.origin, transactionId, false) });
  if (opts.other) attrs.push({ type: ATTR.OTHER_ADDRESS, value: encodeAddress(opts.other, transactionId, false) });
  if (opts.software) attrs.push({ type: ATTR.SOFTWARE, value: new TextEncoder().encode(opts.software) });
  return encodeStun(BINDING_SUCCESS, transactionId, attrs);
}

export function bindingError(transactionId: Uint8Array, code: number, reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason);
  const value = new Uint8Array(4 + text.length);
  value[2] = Math.floor(code / 100);
  value[3] = code % 100;
  value.set(text, 4);
  return encodeStun(BINDING_ERROR, transactionId, [{ type: ATTR.ERROR_CODE, value }]);
}

export interface BindingAnswer {
  mapped: StunAddress;
  origin?: StunAddress;
  other?: StunAddress;
  software?: string;
}

/** Reads a binding success answer; XOR-MAPPED-ADDRESS first, MAPPED-ADDRESS for old servers. */
export function readBindingAnswer(m: StunMessage): BindingAnswer {
  if (m.type === BINDING_ERROR) throw new Error(`STUN error ${errorText(m)}`);
  if (m.type !== BINDING_SUCCESS) throw new Error(`not a binding answer (type 0x${m.type.toString(16)})`);
  const get = (type: number) => m.attributes.find((a) => a.type === type)?.value;
  const xor = get(ATTR.XOR_MAPPED_ADDRESS);
  const plain = get(ATTR.MAPPED_ADDRESS);
  const mapped = xor ? decodeAddress(xor, m.transactionId, true) : plain ? decodeAddress(plain, m.transactionId, false) : undefined;
  if (!mapped) throw new Error('the STUN answer has no mapped address');
  const origin = get(ATTR.RESPONSE_ORIGIN);
  const other = get(ATTR.OTHER_ADDRESS);
  const software = get(ATTR.SOFTWARE);
  return {
    mapped,
    ...(origin ? { origin: decodeAddress(origin, m.transactionId, false) } : {}),
    ...(other ? { other: decodeAddress(other, m.transactionId, false) } : {}),
    ...(software ? { software: new TextDecoder().decode(software) } : {}),
  };
}

function errorText(m: StunMessage): string {
  const v = m.attributes.find((a) => a.type === ATTR.ERROR_CODE)?.value;
  if (!v || v.length < 4) return '(no code)';
  return `${(v[2]! & 7) * 100 + v[3]!} ${new TextDecoder().decode(v.subarray(4))}`;
}

export function encodeAddress(a: StunAddress, transactionId: Uint8Array, xor: boolean): Uint8Array {
  const bytes = a.family === 4 ? ipv4Bytes(a.address) : ipv6Bytes(a.address);
  const out = new Uint8Array(4 + bytes.length);
  const v = view(out);
  out[1] = a.family === 4 ? 0x01 : 0x02;
  v.setUint16(2, xor ? a.port ^ (MAGIC_COOKIE >>> 16) : a.port);
  out.set(xor ? xorBytes(bytes, transactionId) : bytes, 4);
  return out;
}

export function decodeAddress(value: Uint8Array, transactionId: Uint8Array, xor: boolean): StunAddress {
  if (value.length < 8) throw new Error('short STUN address');
  const v = view(value);
  const family = value[1] === 0x01 ? 4 : value[1] === 0x02 ? 6 : 0;
  if (family === 0 || value.length !== (family === 4 ? 8 : 20)) throw new Error('bad STUN address family');
  const port = xor ? v.getUint16(2) ^ (MAGIC_COOKIE >>> 16) : v.getUint16(2);
  const raw = value.subarray(4);
  const bytes = xor ? xorBytes(raw, transactionId) : raw;
  return { family, port, address: family === 4 ? [...bytes].join('.') : ipv6Text(bytes) };
}

/** XORs with the cookie (IPv4) or the cookie followed by the transaction id (IPv6). */
function xorBytes(b: Uint8Array, transactionId: Uint8Array): Uint8Array {
  const key = new Uint8Array(16);
  view(key).setUint32(0, MAGIC_COOKIE);
  key.set(transactionId, 4);
  return b.map((x, i) => x ^ key[i]!);
}

function ipv4Bytes(s: string): Uint8Array {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${s}`);
  return Uint8Array.from(parts);
}

function ipv6Bytes(s: string): Uint8Array {
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) throw new Error(`not an IPv6 address: ${s}`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => view(out).setUint16(i * 2, parseInt(g, 16)));
  return out;
}

function ipv6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

const pad4 = (n: number) => (n + 3) & ~3;
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
