// Sign-in without accounts: the node issues a single-use challenge, the browser signs it with its
// did:key (Cascade sign-in message, @cascade/identity) or its Ethereum account (EIP-4361, Sign-In
// with Ethereum), the node checks the signature and opens a session. A challenge is bound to the
// origin that asked for it, to the node's did, and expires after five minutes; it is spent by the
// first attempt to use it, good or bad, so a captured signature cannot be replayed.
import { randomBytes } from 'node:crypto';
import type * as Siwe from 'viem/siwe';
import {
  checksumAddress, isAddress, isDid, parseSignInMessage, signInMessage, verifyBinding, verifyPersonalSignature, verifySignIn,
} from '@cascade/identity';
import type { Challenge, SignInMethod } from '@cascade/shapes';

// viem (with ox, abitype and its curves) costs a node some 25 MB of memory once loaded, and only a
// sign-in with an Ethereum account needs it: it is imported on the first such request.
let siweModule: Promise<typeof Siwe> | undefined;
const siwe = (): Promise<typeof Siwe> => (siweModule ??= import('viem/siwe'));

export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Pending challenges kept at most; the oldest go first (anyone may ask for one). */
const MAX_PENDING = 10_000;

// The sign-in method and the challenge are what POST /api/auth/challenge sends (@cascade/shapes).
export type { Challenge, SignInMethod };

interface Pending extends Challenge {
  origin: string;
  /** The did, or the address in lowercase. */
  subject: string;
}

export interface SignedIn {
  did: string | null;
  address: string | null;
}

/** A sign-in that failed: `status` 400 for a malformed request, 401 for a refused signature. */
export class SignInError extends Error {
  readonly status: 400 | 401;
  constructor(status: 400 | 401, message: string) {
    super(message);
    this.status = status;
  }
}

export class SignInService {
  readonly #nodeDid: string;
  readonly #pending = new Map<string, Pending>();
  readonly #now: () => number;

  constructor(nodeDid: string, now: () => number = Date.now) {
    this.#nodeDid = nodeDid;
    this.#now = now;
  }

  /**
   * A challenge for `body` ({method: 'did', did} or {method: 'siwe', address, chainId?}), to be
   * answered from `origin`; `host` is the Host the browser used (SIWE's domain).
   */
  async challenge(body: unknown, origin: string, host: string): Promise<Challenge> {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const now = this.#now();
    // EIP-4361 nonces are alphanumeric; the same kind serves both methods.
    const nonce = randomBytes(16).toString('hex');
    const expiresAt = now + CHALLENGE_TTL_MS;
    let pending: Pending;
    if (b.method === 'did') {
      if (!isDid(b.did)) throw new SignInError(400, 'did must be an Ed25519 did:key');
      const message = signInMessage({ origin, did: b.did, node: this.#nodeDid, nonce, issuedAt: new Date(now), expiresAt: new Date(expiresAt) });
      pending = { method: 'did', nonce, message, expiresAt, origin, subject: b.did };
    } else if (b.method === 'siwe') {
      if (!isAddress(b.address)) throw new SignInError(400, 'address must be a 0x-prefixed 20-byte Ethereum address');
      const chainId = b.chainId === undefined ? 1 : b.chainId;
      if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1) throw new SignInError(400, 'chainId must be a positive integer');
      const message = (await siwe()).createSiweMessage({
        domain: host,
        address: checksumAddress(b.address),
        statement: `Sign in to the Cascade node ${this.#nodeDid}`,
        uri: origin,
        version: '1',
        chainId,
        nonce,
        issuedAt: new Date(now),
        expirationTime: new Date(expiresAt),
      });
      pending = { method: 'siwe', nonce, message, expiresAt, origin, subject: b.address.toLowerCase() };
    } else {
      throw new SignInError(400, "method must be 'did' or 'siwe'");
    }
    this.#prune(now);
    this.#pending.set(nonce, pending);
    return { method: pending.method, nonce, message: pending.message, expiresAt };
  }

  /** Checks an answer ({message, signature, binding?}) sent from `origin`; spends its challenge. */
  async verify(body: unknown, origin: string): Promise<SignedIn> {
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    if (typeof b.message !== 'string' || typeof b.signature !== 'string') throw new SignInError(400, 'message and signature must be strings');
    const nonce = await nonceOf(b.message);
    if (!nonce) throw new SignInError(400, 'the message is not a Cascade or SIWE sign-in message');
    const p = this.#pending.get(nonce);
    this.#pending.delete(nonce);
    if (!p || p.message !== b.message) throw new SignInError(401, 'unknown or already used challenge: ask for a new one');
    if (p.expiresAt <= this.#now()) throw new SignInError(401, 'the challenge expired: ask for a new one');
    if (p.origin !== origin) throw new SignInError(401, 'the challenge was issued to another origin');
    const good = p.method === 'did' ? verifySignIn(p.subject, p.message, b.signature) : verifyPersonalSignature(p.subject, p.message, b.signature);
    if (!good) throw new SignInError(401, 'the signature does not verify');
    const who: SignedIn = p.method === 'did' ? { did: p.subject, address: null } : { did: null, address: p.subject };
    if (b.binding !== undefined) {
      // A binding names the other half of the identity; it counts only if it is about this signer.
      if (!verifyBinding(b.binding)) throw new SignInError(401, 'the identity binding does not verify');
      const sameDid = p.method === 'did' && b.binding.did === p.subject;
      const sameAddress = p.method === 'siwe' && b.binding.address.toLowerCase() === p.subject;
      if (!sameDid && !sameAddress) throw new SignInError(401, 'the identity binding is about someone else');
      who.did = b.binding.did;
      who.address = b.binding.address.toLowerCase();
    }
    return who;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  #prune(now: number): void {
    for (const [nonce, p] of this.#pending) {
      if (p.expiresAt > now && this.#pending.size < MAX_PENDING) break;
      this.#pending.delete(nonce);
    }
  }
}

async function nonceOf(message: string): Promise<string | undefined> {
  if (message.length > 4096) return undefined;
  const cascade = parseSignInMessage(message);
  if (!(cascade instanceof Error)) return cascade.nonce;
  const { parseSiweMessage } = await siwe();
  try {
    return parseSiweMessage(message).nonce;
  } catch {
    return undefined;
  }
}
