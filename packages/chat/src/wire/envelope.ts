// Envelopes: what travels over the relay and the data channel, and all the server ever stores.
// Direct envelopes (dm, skey): a fresh random content key per message encrypts the body with
// XChaCha20-Poly1305; that key is wrapped for the recipient and for the sender (so the sender's
// history survives a reload) with X25519(ephemeral, recipient) ‖ X25519(sender static, recipient)
// through HKDF-SHA256. Every envelope is signed with the sender's Ed25519 key over its canonical form
// (ciphertext included), and carries a random id and a per-conversation counter against replays.
import { x25519 } from '@noble/curves/ed25519.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { b64u, canonicalJson, concat, fromB64u, fromUtf8, utf8 } from '@cascade/identity';
import { type Identity, isDid, signBytes, verifyBytes } from './identity.ts';

export type EnvelopeType = 'dm' | 'skey' | 'group';

export interface WrappedKey {
  to: string; // recipient did
  n: string; // nonce (24 bytes)
  k: string; // wrapped content key
}

export interface Envelope {
  v: 1;
  id: string;
  type: EnvelopeType;
  from: string;
  /** did for dm/skey, room id for group */
  to: string;
  /** skey only: the room the distributed sender key belongs to */
  room?: string;
  ts: number;
  ctr: number;
  /** dm/skey: sender's X25519 key, ephemeral X25519 key, content key wrapped per recipient */
  dh?: string;
  eph?: string;
  keys?: WrappedKey[];
  /** group: sender-key id */
  kid?: string;
  nonce: string;
  ct: string;
  sig: string;
}

export type Payload =
  | { kind: 'text'; text: string }
  | { kind: 'skey'; room: string; kid: string; key: string; members: string[] };

export type ChatErrorCode =
  | 'malformed' | 'bad-signature' | 'decrypt-failed' | 'not-for-me' | 'replay' | 'stale' | 'unknown-key'
  | 'too-large' | 'rate-limited' | 'not-authenticated' | 'forbidden' | 'not-invited' | 'not-member' | 'no-such-room'
  | 'unknown-user' | 'bad-request';

export class ChatError extends Error {
  readonly code: ChatErrorCode;
  constructor(code: ChatErrorCode, message?: string) {
    super(message ?? code);
    this.code = code;
    this.name = 'ChatError';
  }
}

export const ENVELOPE_DOMAIN = 'cascade-chat/envelope/v1';
export const ROOM_ID_RE = /^[A-Za-z0-9:_-]{1,100}$/;
export const MAX_TEXT_LENGTH = 4000;

export function newMessageId(): string {
  return b64u(randomBytes(16));
}

/** The members the body's AEAD and the wrapped keys are bound to. */
function header(e: Omit<Envelope, 'sig' | 'ct' | 'nonce' | 'keys'> | Envelope): Uint8Array {
  return utf8(canonicalJson({ v: e.v, id: e.id, type: e.type, from: e.from, to: e.to, room: e.room, ts: e.ts, ctr: e.ctr, dh: e.dh, eph: e.eph, kid: e.kid }));
}

export function signingBytes(e: Envelope): Uint8Array {
  const { sig: _s, ...rest } = e;
  return utf8(canonicalJson(rest));
}

export function signEnvelope(sender: Identity, e: Omit<Envelope, 'sig'>): Envelope {
  if (e.from !== sender.did) throw new ChatError('forbidden', 'envelope sender is not this identity');
  const unsigned = { ...e, sig: '' } as Envelope;
  return { ...e, sig: b64u(signBytes(sender, ENVELOPE_DOMAIN, signingBytes(unsigned))) };
}

function isB64(s: unknown, min: number, max: number): s is string {
  return typeof s === 'string' && s.length >= min && s.length <= max && /^[A-Za-z0-9_-]*$/.test(s);
}

/** Structural check of an untrusted value; does not check the signature. */
export function isEnvelope(x: unknown): x is Envelope {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const e = x as Record<string, unknown>;
  const allowed = new Set(['v', 'id', 'type', 'from', 'to', 'room', 'ts', 'ctr', 'dh', 'eph', 'keys', 'kid', 'nonce', 'ct', 'sig']);
  if (Object.keys(e).some((k) => !allowed.has(k))) return false;
  if (e.v !== 1 || !isB64(e.id, 16, 43) || !isDid(e.from)) return false;
  if (typeof e.ts !== 'number' || !Number.isSafeInteger(e.ts) || e.ts < 0) return false;
  if (typeof e.ctr !== 'number' || !Number.isSafeInteger(e.ctr) || e.ctr < 0) return false;
  if (!isB64(e.nonce, 32, 32) || !isB64(e.ct, 22, 1 << 20) || !isB64(e.sig, 86, 86)) return false;
  if (e.type === 'dm' || e.type === 'skey') {
    if (!isDid(e.to) || !isB64(e.dh, 43, 43) || !isB64(e.eph, 43, 43) || e.kid !== undefined) return false;
    if (e.type === 'skey' ? !(typeof e.room === 'string' && ROOM_ID_RE.test(e.room)) : e.room !== undefined) return false;
    if (!Array.isArray(e.keys) || e.keys.length < 1 || e.keys.length > 2) return false;
    for (const k of e.keys as unknown[]) {
      if (!k || typeof k !== 'object') return false;
      const w = k as Record<string, unknown>;
      if (Object.keys(w).length !== 3 || !isDid(w.to) || !isB64(w.n, 32, 32) || !isB64(w.k, 64, 64)) return false;
    }
    return true;
  }
  if (e.type === 'group') {
    return typeof e.to === 'string' && ROOM_ID_RE.test(e.to) && isB64(e.kid, 16, 43) && e.room === undefined &&
      e.dh === undefined && e.eph === undefined && e.keys === undefined;
  }
  return false;
}

/** Shape and signature; the server runs this on every envelope it accepts, clients on every one they receive. */
export function verifyEnvelope(x: unknown): x is Envelope {
  if (!isEnvelope(x)) return false;
  try {
    return verifyBytes(x.from, ENVELOPE_DOMAIN, signingBytes(x), fromB64u(x.sig));
  } catch {
    return false;
  }
}

/** Throws a ChatError saying why an envelope is unacceptable. */
export function assertEnvelope(x: unknown): asserts x is Envelope {
  if (!isEnvelope(x)) throw new ChatError('malformed', 'malformed envelope');
  if (!verifyEnvelope(x)) throw new ChatError('bad-signature', 'signature does not verify');
}

export function encodePayload(p: Payload): Uint8Array {
  return utf8(JSON.stringify(p));
}

export function decodePayload(b: Uint8Array): Payload {
  let p: unknown;
  try {
    p = JSON.parse(fromUtf8(b));
  } catch {
    throw new ChatError('malformed', 'payload is not JSON');
  }
  const o = p as Record<string, unknown>;
  if (o?.kind === 'text' && typeof o.text === 'string' && o.text.length <= MAX_TEXT_LENGTH) return { kind: 'text', text: o.text };
  if (o?.kind === 'skey' && typeof o.room === 'string' && typeof o.kid === 'string' && typeof o.key === 'string' &&
      Array.isArray(o.members) && o.members.every(isDid)) {
    return { kind: 'skey', room: o.room, kid: o.kid, key: o.key, members: o.members as string[] };
  }
  throw new ChatError('malformed', 'unknown payload');
}

function wrapKey(ss: Uint8Array, e: { id: string; from: string; eph?: string; dh?: string }, to: string): Uint8Array {
  return hkdf(sha256, ss, utf8(e.id), utf8(`cascade-chat/wrap/v1|${e.from}|${to}|${e.eph}|${e.dh}`), 32);
}

export interface DirectRecipient {
  did: string;
  dh: Uint8Array; // from the recipient's verified profile
}

export interface SealOptions {
  ctr: number;
  id?: string;
  ts?: number;
  room?: string; // skey
}

/** Encrypt and sign a dm or skey envelope. */
export function sealDirect(sender: Identity, to: DirectRecipient, type: 'dm' | 'skey', payload: Payload, o: SealOptions): Envelope {
  const eph = x25519.keygen();
  const base = {
    v: 1 as const, id: o.id ?? newMessageId(), type, from: sender.did, to: to.did, room: type === 'skey' ? o.room : undefined,
    ts: o.ts ?? Date.now(), ctr: o.ctr, dh: b64u(sender.dhPublic), eph: b64u(eph.publicKey), kid: undefined,
  };
  const contentKey = randomBytes(32);
  const nonce = randomBytes(24);
  const ct = xchacha20poly1305(contentKey, nonce, header(base)).encrypt(encodePayload(payload));
  const recipients = to.did === sender.did ? [to] : [to, { did: sender.did, dh: sender.dhPublic }];
  const keys = recipients.map((r) => {
    const ss = concat(x25519.getSharedSecret(eph.secretKey, r.dh), x25519.getSharedSecret(sender.dhSecret, r.dh));
    const n = randomBytes(24);
    return { to: r.did, n: b64u(n), k: b64u(xchacha20poly1305(wrapKey(ss, base, r.did), n, header(base)).encrypt(contentKey)) };
  });
  const env = { ...base, keys, nonce: b64u(nonce), ct: b64u(ct) };
  if (env.room === undefined) delete env.room;
  delete (env as { kid?: string }).kid;
  return signEnvelope(sender, env);
}

/** Verify and decrypt a dm or skey envelope addressed to (or sent by) `me`. */
export function openDirect(me: Identity, x: unknown): Payload {
  assertEnvelope(x);
  const e = x;
  if (e.type !== 'dm' && e.type !== 'skey') throw new ChatError('malformed', 'not a direct envelope');
  if (e.to !== me.did && e.from !== me.did) throw new ChatError('not-for-me', 'envelope is not addressed to me');
  const wk = e.keys!.find((k) => k.to === me.did);
  if (!wk) throw new ChatError('not-for-me', 'no key wrapped for me');
  try {
    const contentKey = unwrapContentKey(me, e, wk);
    const payload = decodePayload(xchacha20poly1305(contentKey, fromB64u(e.nonce), header(e)).decrypt(fromB64u(e.ct)));
    if (e.type === 'dm' && payload.kind !== 'text') throw new ChatError('malformed', 'dm must carry text');
    if (e.type === 'skey' && (payload.kind !== 'skey' || payload.room !== e.room)) throw new ChatError('malformed', 'skey payload mismatch');
    return payload;
  } catch (err) {
    if (err instanceof ChatError) throw err;
    throw new ChatError('decrypt-failed', 'ciphertext does not decrypt (tampered or not for me)');
  }
}

/** The content key wrapped for `me`, with the identity's X25519 key or, for messages sealed before
 *  identities took the did:key's own X25519 key, with the legacy one. */
function unwrapContentKey(me: Identity, e: Envelope, wk: { n: string; k: string }): Uint8Array {
  const secrets = me.legacyDhSecret ? [me.dhSecret, me.legacyDhSecret] : [me.dhSecret];
  let last: unknown;
  for (const secret of secrets) {
    try {
      const ss = concat(x25519.getSharedSecret(secret, fromB64u(e.eph!)), x25519.getSharedSecret(secret, fromB64u(e.dh!)));
      return xchacha20poly1305(wrapKey(ss, e, me.did), fromB64u(wk.n), header(e)).decrypt(fromB64u(wk.k));
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** Exposed for group.ts: the AAD of an envelope. */
export const envelopeHeader = header;

/**
 * Replay protection on the receiving side: every message id is accepted once, and per chain
 * (sender → conversation) a counter far behind the highest one seen is refused even if its id was forgotten.
 */
export class ReplayGuard {
  private readonly seen = new Set<string>();
  private readonly highest = new Map<string, number>();
  readonly window: number;

  constructor(window = 4096) {
    this.window = window;
  }

  static chain(e: Pick<Envelope, 'type' | 'from' | 'to'>): string {
    return `${e.type === 'group' ? 'g' : 'd'}|${e.from}|${e.to}`;
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  /** 'ok' if the envelope would be new; does not remember it (call accept() once it proved genuine). */
  check(e: Pick<Envelope, 'id' | 'type' | 'from' | 'to' | 'ctr'>): 'ok' | 'replay' | 'stale' {
    if (this.seen.has(e.id)) return 'replay';
    const hi = this.highest.get(ReplayGuard.chain(e)) ?? -1;
    if (e.ctr + this.window <= hi) return 'stale';
    return 'ok';
  }

  accept(e: Pick<Envelope, 'id' | 'type' | 'from' | 'to' | 'ctr'>): void {
    this.seen.add(e.id);
    const chain = ReplayGuard.chain(e);
    if (e.ctr > (this.highest.get(chain) ?? -1)) this.highest.set(chain, e.ctr);
  }

  /** Highest counter seen on a chain (−1 if none): a sender resumes its own counter from this. */
  highestCounter(chain: string): number {
    return this.highest.get(chain) ?? -1;
  }
}
