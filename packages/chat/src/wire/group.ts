// Group rooms with sender keys: each member encrypts to the room with its own random sender key,
// handed to every other member over the pairwise (dm-style, 'skey') channel. Each message uses its
// own key derived from the sender key, the message id and its counter. A member makes a new sender
// key whenever the room's membership changes, so someone who left cannot read what follows.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { b64u, fromB64u, utf8 } from '@cascade/identity';
import { assertEnvelope, ChatError, decodePayload, encodePayload, type Envelope, envelopeHeader, newMessageId, type Payload, signEnvelope } from './envelope.ts';
import type { Identity } from './identity.ts';

export interface SenderKey {
  room: string;
  owner: string; // did of the member that encrypts with it
  kid: string;
  key: Uint8Array;
  /** members the key was handed to (sorted) */
  members: string[];
  created: number;
}

export function createSenderKey(owner: string, room: string, members: string[]): SenderKey {
  return { room, owner, kid: b64u(randomBytes(16)), key: randomBytes(32), members: [...new Set(members)].sort(), created: Date.now() };
}

/** Rotation rule: a new key whenever the set of members differs from the one the key was handed to. */
export function needsRotation(sk: SenderKey | undefined, members: string[]): boolean {
  if (!sk) return true;
  const now = [...new Set(members)].sort();
  return now.length !== sk.members.length || now.some((m, i) => m !== sk.members[i]);
}

export function senderKeyPayload(sk: SenderKey): Payload {
  return { kind: 'skey', room: sk.room, kid: sk.kid, key: b64u(sk.key), members: sk.members };
}

/** A sender key received in an skey envelope from `owner` (the envelope's verified sender). */
export function senderKeyFromPayload(owner: string, p: Payload, created = Date.now()): SenderKey {
  if (p.kind !== 'skey') throw new ChatError('malformed', 'not a sender key');
  const key = fromB64u(p.key);
  if (key.length !== 32) throw new ChatError('malformed', 'sender key must be 32 bytes');
  return { room: p.room, owner, kid: p.kid, key, members: [...p.members].sort(), created };
}

function messageKey(sk: SenderKey, e: Pick<Envelope, 'id' | 'to' | 'from' | 'ctr'>): Uint8Array {
  return hkdf(sha256, sk.key, utf8(e.id), utf8(`cascade-chat/group/v1|${e.to}|${e.from}|${sk.kid}|${e.ctr}`), 32);
}

export function sealGroup(sender: Identity, sk: SenderKey, payload: Payload, o: { ctr: number; id?: string; ts?: number }): Envelope {
  if (sk.owner !== sender.did) throw new ChatError('forbidden', 'not my sender key');
  const base = { v: 1 as const, id: o.id ?? newMessageId(), type: 'group' as const, from: sender.did, to: sk.room, ts: o.ts ?? Date.now(), ctr: o.ctr, kid: sk.kid };
  const nonce = randomBytes(24);
  const ct = xchacha20poly1305(messageKey(sk, base), nonce, envelopeHeader(base)).encrypt(encodePayload(payload));
  return signEnvelope(sender, { ...base, nonce: b64u(nonce), ct: b64u(ct) });
}

/** Verify and decrypt a group envelope with the sender key its `kid` names. */
export function openGroup(x: unknown, sk: SenderKey): Payload {
  assertEnvelope(x);
  const e = x;
  if (e.type !== 'group') throw new ChatError('malformed', 'not a group envelope');
  if (e.from !== sk.owner || e.to !== sk.room || e.kid !== sk.kid) throw new ChatError('unknown-key', 'sender key does not match');
  try {
    const p = decodePayload(xchacha20poly1305(messageKey(sk, e), fromB64u(e.nonce), envelopeHeader(e)).decrypt(fromB64u(e.ct)));
    if (p.kind !== 'text') throw new ChatError('malformed', 'group messages carry text');
    return p;
  } catch (err) {
    if (err instanceof ChatError) throw err;
    throw new ChatError('decrypt-failed', 'ciphertext does not decrypt (tampered?)');
  }
}

/** Sender keys known to one member: by room, owner and key id; the newest own key per room is the current one. */
export class SenderKeyStore {
  private readonly keys = new Map<string, SenderKey>();
  private readonly currentOwn = new Map<string, SenderKey>();

  put(sk: SenderKey, own = false): void {
    this.keys.set(`${sk.room}|${sk.owner}|${sk.kid}`, sk);
    if (own) {
      const cur = this.currentOwn.get(sk.room);
      if (!cur || cur.created <= sk.created) this.currentOwn.set(sk.room, sk);
    }
  }

  get(room: string, owner: string, kid: string): SenderKey | undefined {
    return this.keys.get(`${room}|${owner}|${kid}`);
  }

  current(room: string): SenderKey | undefined {
    return this.currentOwn.get(room);
  }

  forgetCurrent(room: string): void {
    this.currentOwn.delete(room);
  }
}
