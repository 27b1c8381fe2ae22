// Message Stream Encryption (MSE/PE, "protocol encryption") for TCP peers. libtorrent, Transmission
// and qBittorrent open connections with it by default; a peer that only speaks the plaintext
// handshake makes them reconnect in plaintext a second later, and locks out peers that require it.
//
// Both ends wrap a socket's Connection in another Connection that runs the MSE handshake first and
// then carries the plaintext BitTorrent stream, so Peer never knows encryption happened:
//  - acceptMse: incoming. Plaintext handshakes pass through untouched; anything else is taken for
//    MSE's Ya and answered as the responder. The torrent is found from the obfuscated SKEY hash.
//  - encryptOutgoing: outgoing. Sends Ya at once and learns the infohash from the BitTorrent
//    handshake the Peer writes first, which then travels as MSE's initial payload (IA).
//
// Wire format (A = initiator, B = responder; S = DH secret, SKEY = infohash, HASH = SHA-1):
//   A→B  Ya, PadA
//   B→A  Yb, PadB
//   A→B  HASH('req1',S), HASH('req2',SKEY)^HASH('req3',S), E_A(VC, provide, len(PadC), PadC, len(IA)), E_A(IA)
//   B→A  E_B(VC, select, len(PadD), PadD), then the payload stream (E_B if RC4 was selected)
// E_A/E_B are RC4 keyed with HASH('keyA'|'keyB', S, SKEY), first 1024 keystream bytes dropped.

import type { Connection, Dialer } from '../platform.ts';
import type { Rc4 } from './rc4.ts';
import { concat, DhKey, equal, indexOf, KEY_LEN, MAX_PAD, randomPad, rc4Stream, sha1, xor } from './mse-crypto.ts';

/** 'prefer-plaintext': accept plaintext and MSE handshakes; after an MSE handshake pick the
 *  plaintext stream when offered (RC4 costs CPU and buys only obfuscation), else RC4. Outgoing
 *  connections stay plaintext.
 *  'require': refuse plaintext handshakes and the plaintext stream: every connection, incoming or
 *  outgoing, is RC4 end to end.
 *  'disabled': plaintext only, in and out (the behaviour before MSE support). */
export type EncryptionPolicy = 'prefer-plaintext' | 'require' | 'disabled';

const VC_LEN = 8;
const CRYPTO_PLAINTEXT = 0x01;
const CRYPTO_RC4 = 0x02;
const HANDSHAKE_LEN = 68;
const PLAINTEXT_PREFIX = new Uint8Array([19, ...new TextEncoder().encode('BitTorrent protocol')]);
export const MSE_HANDSHAKE_TIMEOUT_MS = 10_000;

class HandshakeError extends Error {}

// ---- the wrapped connection ----

type Phase =
  // responder
  | 'detect' | 'ya' | 'req1' | 'skey' | 'provide' | 'padc'
  // initiator
  | 'yb' | 'vc' | 'select' | 'padd'
  | 'open';

interface MseOptions {
  /** The infohashes this end serves (responder only): the torrent is found by trying each one. */
  infoHashes?: () => Iterable<Uint8Array>;
  policy: EncryptionPolicy;
  timeoutMs?: number;
}

class MseConnection implements Connection {
  readonly remote: string;
  private readonly raw: Connection;
  private readonly opts: MseOptions;
  private readonly initiator: boolean;
  private phase: Phase;
  private closed = false;
  private failure: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Handshake bytes received and not yet consumed (bounded by the phases' limits). */
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private dh: DhKey | undefined;
  private s: Uint8Array | undefined;
  private skey: Uint8Array | undefined;
  /** Responder: HASH('req1', S), the marker that ends PadA. */
  private req1: Uint8Array | undefined;
  /** Keystreams: `enc` for what we send, `dec` for what we receive. */
  private enc: Rc4 | undefined;
  private dec: Rc4 | undefined;
  /** After the handshake: incoming bytes still to decrypt (IA under a plaintext select), or Infinity. */
  private decLeft = 0;
  private encAfterOpen = false;
  private padLen = 0;
  private provide = 0;
  private select = 0;
  /** Initiator: the encrypted VC the responder's reply must contain. */
  private vcSync: Uint8Array | undefined;
  /** Writes made before the handshake finished (the initiator's first 68 bytes become IA). */
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  private dataFn: ((chunk: Uint8Array, borrowed: boolean) => void) | undefined;
  private early: Uint8Array[] = [];
  private closeFns: ((err?: Error) => void)[] = [];

  /** Asked of the connection beneath each time: a local TCP dial may carry on over uTP once it
   *  is under way (utp-dialer.ts watchedTcp). */
  get transport(): Connection['transport'] {
    return this.raw.transport;
  }

  constructor(raw: Connection, opts: MseOptions, initiator: boolean) {
    this.raw = raw;
    this.opts = opts;
    this.initiator = initiator;
    this.remote = raw.remote;
    this.phase = initiator ? 'yb' : 'detect';
    this.timer = setTimeout(() => this.fail('encryption handshake timed out'), opts.timeoutMs ?? MSE_HANDSHAKE_TIMEOUT_MS);
    this.timer.unref?.();
    raw.onData((chunk, borrowed) => this.onRawData(chunk, borrowed));
    raw.onClose((err) => {
      this.closed = true;
      this.stopTimer();
      const e = err ?? (this.failure ? new Error(this.failure) : undefined);
      for (const fn of this.closeFns) fn(e);
    });
    if (initiator) {
      this.dh = new DhKey();
      raw.write(concat(this.dh.publicKey, randomPad()));
    }
  }

  // ---- Connection ----
  write(data: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.phase !== 'open') {
      // Copied: the caller may reuse its buffer before the handshake ends.
      this.queued.push(new Uint8Array(data));
      this.queuedBytes += data.length;
      if (this.initiator && this.phase === 'yb') this.advanceGuarded();
      return true;
    }
    // Out of place: the caller's bytes (a cached block sent to several peers) must stay intact.
    if (this.encAfterOpen) return this.raw.write(this.enc!.process(data, new Uint8Array(data.length)));
    return this.raw.write(data);
  }

  cork(): void {
    this.raw.cork();
  }

  uncork(): void {
    this.raw.uncork();
  }

  pause(): void {
    this.raw.pause();
  }

  resume(): void {
    this.raw.resume();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    this.raw.close();
  }

  onData(fn: (chunk: Uint8Array, borrowed: boolean) => void): void {
    this.dataFn = fn;
    for (const c of this.early.splice(0)) fn(c, false);
  }

  onDrain(fn: () => void): void {
    this.raw.onDrain(fn);
  }

  drained(): boolean {
    return this.raw.drained();
  }

  unsent(): number {
    return this.raw.unsent?.() ?? 0;
  }

  onClose(fn: (err?: Error) => void): void {
    this.closeFns.push(fn);
  }

  // ---- plumbing ----
  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.failure = reason;
    this.close();
  }

  private deliver(chunk: Uint8Array, borrowed: boolean): void {
    if (chunk.length === 0 || this.closed) return;
    if (this.dataFn) this.dataFn(chunk, borrowed);
    else this.early.push(borrowed ? new Uint8Array(chunk) : chunk);
  }

  /** In place: a borrowed chunk is the transport's scratch buffer, an owned one is ours. */
  private decrypt(chunk: Uint8Array): Uint8Array {
    if (this.decLeft === 0) return chunk;
    if (this.decLeft === Infinity) return this.dec!.process(chunk);
    const n = Math.min(this.decLeft, chunk.length);
    this.dec!.process(chunk.subarray(0, n));
    this.decLeft -= n;
    if (this.decLeft === 0) this.dec = undefined;
    return chunk;
  }

  private onRawData(chunk: Uint8Array, borrowed: boolean): void {
    if (this.phase === 'open') return this.deliver(this.decrypt(chunk), borrowed);
    if (this.closed) return;
    this.buf = concat(this.buf, chunk);
    this.advanceGuarded();
  }

  /** Runs the handshake as far as the bytes allow; never throws into the socket's callback. */
  private advanceGuarded(): void {
    let rest: Uint8Array | undefined;
    try {
      rest = this.advance();
    } catch (err) {
      return this.fail(err instanceof HandshakeError ? err.message : `encryption handshake failed: ${(err as Error).message}`);
    }
    // Outside the try: an exception from the consumer is its own bug, not a bad handshake.
    if (rest) this.deliver(this.decrypt(rest), false);
  }

  private need(n: number): boolean {
    return this.buf.length - this.pos >= n;
  }

  private take(n: number): Uint8Array {
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Returns the bytes that follow the handshake once it completes (to be decrypted and delivered). */
  private advance(): Uint8Array | undefined {
    for (;;) {
      switch (this.phase) {
        // ---------------- responder ----------------
        case 'detect': {
          const n = Math.min(this.buf.length, PLAINTEXT_PREFIX.length);
          let plaintext = true;
          for (let i = 0; i < n; i++) if (this.buf[i] !== PLAINTEXT_PREFIX[i]) plaintext = false;
          if (plaintext && n < PLAINTEXT_PREFIX.length) return undefined;
          if (plaintext) {
            if (this.opts.policy === 'require') throw new HandshakeError('plaintext handshake refused (encryption required)');
            return this.open(0, 0);
          }
          this.phase = 'ya';
          continue;
        }
        case 'ya': {
          if (!this.need(KEY_LEN)) return undefined;
          this.dh = new DhKey();
          this.s = this.dh.secret(this.take(KEY_LEN));
          if (!this.s) throw new HandshakeError('encryption handshake: degenerate DH key');
          this.raw.write(concat(this.dh.publicKey, randomPad()));
          this.req1 = sha1('req1', this.s);
          this.phase = 'req1';
          continue;
        }
        case 'req1': {
          // HASH('req1', S) follows PadA (≤ 512 bytes): the only way to find where PadA ends.
          const limit = KEY_LEN + MAX_PAD + 20;
          const at = indexOf(this.buf, this.req1!, KEY_LEN, limit);
          if (at < 0) {
            if (this.buf.length >= limit) throw new HandshakeError('encryption handshake: no sync hash');
            return undefined;
          }
          this.pos = at + 20;
          this.phase = 'skey';
          continue;
        }
        case 'skey': {
          if (!this.need(20)) return undefined;
          const want = xor(this.take(20), sha1('req3', this.s!));
          for (const ih of this.opts.infoHashes?.() ?? []) {
            if (equal(sha1('req2', ih), want)) {
              this.skey = ih;
              break;
            }
          }
          if (!this.skey) throw new HandshakeError('encryption handshake for a torrent we do not have');
          this.dec = rc4Stream('keyA', this.s!, this.skey);
          this.enc = rc4Stream('keyB', this.s!, this.skey);
          this.phase = 'provide';
          continue;
        }
        case 'provide': {
          if (!this.need(VC_LEN + 4 + 2)) return undefined;
          const b = this.dec!.process(this.take(VC_LEN + 4 + 2));
          if (b.subarray(0, VC_LEN).some((x) => x !== 0)) throw new HandshakeError('encryption handshake: bad verification constant');
          this.provide = new DataView(b.buffer, b.byteOffset + VC_LEN, 4).getUint32(0);
          this.padLen = (b[VC_LEN + 4]! << 8) | b[VC_LEN + 5]!;
          if (this.padLen > MAX_PAD) throw new HandshakeError('encryption handshake: PadC too long');
          const plainOk = this.opts.policy !== 'require' && (this.provide & CRYPTO_PLAINTEXT) !== 0;
          this.select = plainOk ? CRYPTO_PLAINTEXT : this.provide & CRYPTO_RC4 ? CRYPTO_RC4 : 0;
          if (!this.select) throw new HandshakeError(`encryption handshake: no acceptable method in ${this.provide}`);
          this.phase = 'padc';
          continue;
        }
        case 'padc': {
          if (!this.need(this.padLen + 2)) return undefined;
          const b = this.dec!.process(this.take(this.padLen + 2));
          const iaLen = (b[this.padLen]! << 8) | b[this.padLen + 1]!;
          // VC, select, len(PadD) = 0: padding only hides lengths, and the reply is already one packet.
          const reply = new Uint8Array(VC_LEN + 4 + 2);
          new DataView(reply.buffer).setUint32(VC_LEN, this.select);
          this.raw.write(this.enc!.process(reply));
          // IA is RC4 under either select; with plaintext the stream turns clear right after it.
          return this.open(this.select === CRYPTO_RC4 ? Infinity : iaLen, this.select);
        }

        // ---------------- initiator ----------------
        case 'yb': {
          // The BitTorrent handshake the Peer writes first names the torrent (SKEY) and is IA.
          if (!this.need(KEY_LEN) || this.queuedBytes < HANDSHAKE_LEN) return undefined;
          const queued = this.queued.length === 1 ? this.queued[0]! : this.queued.reduce(concat, new Uint8Array(0));
          if (!equal(queued.subarray(0, PLAINTEXT_PREFIX.length), PLAINTEXT_PREFIX)) {
            throw new HandshakeError('encryption handshake: first write is not a BitTorrent handshake');
          }
          const ia = queued.subarray(0, HANDSHAKE_LEN);
          this.queued = queued.length > HANDSHAKE_LEN ? [queued.subarray(HANDSHAKE_LEN)] : [];
          this.queuedBytes -= HANDSHAKE_LEN;
          this.skey = ia.slice(28, 48);
          this.s = this.dh!.secret(this.take(KEY_LEN));
          if (!this.s) throw new HandshakeError('encryption handshake: degenerate DH key');
          this.enc = rc4Stream('keyA', this.s, this.skey);
          this.dec = rc4Stream('keyB', this.s, this.skey);
          // The responder's reply starts with E_B(VC); its first 8 keystream bytes are that pattern.
          this.vcSync = this.dec.process(new Uint8Array(VC_LEN));
          const provide = this.opts.policy === 'require' ? CRYPTO_RC4 : CRYPTO_PLAINTEXT | CRYPTO_RC4;
          const tail = new Uint8Array(VC_LEN + 4 + 2 + 2 + HANDSHAKE_LEN); // PadC empty
          const view = new DataView(tail.buffer);
          view.setUint32(VC_LEN, provide);
          view.setUint16(VC_LEN + 6, HANDSHAKE_LEN);
          tail.set(ia, VC_LEN + 8);
          this.provide = provide;
          const out = new Uint8Array(40 + tail.length);
          out.set(sha1('req1', this.s));
          out.set(xor(sha1('req2', this.skey), sha1('req3', this.s)), 20);
          out.set(this.enc.process(tail), 40);
          this.raw.write(out);
          this.phase = 'vc';
          continue;
        }
        case 'vc': {
          const limit = KEY_LEN + MAX_PAD + VC_LEN;
          const at = indexOf(this.buf, this.vcSync!, KEY_LEN, limit);
          if (at < 0) {
            if (this.buf.length >= limit) throw new HandshakeError('encryption handshake: no verification constant');
            return undefined;
          }
          this.pos = at + VC_LEN;
          this.phase = 'select';
          continue;
        }
        case 'select': {
          if (!this.need(6)) return undefined;
          const b = this.dec!.process(this.take(6));
          this.select = new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
          this.padLen = (b[4]! << 8) | b[5]!;
          if ((this.select !== CRYPTO_PLAINTEXT && this.select !== CRYPTO_RC4) || !(this.select & this.provide)) {
            throw new HandshakeError(`encryption handshake: peer selected ${this.select}, offered ${this.provide}`);
          }
          if (this.padLen > MAX_PAD) throw new HandshakeError('encryption handshake: PadD too long');
          this.phase = 'padd';
          continue;
        }
        case 'padd': {
          if (!this.need(this.padLen)) return undefined;
          this.dec!.process(this.take(this.padLen));
          return this.open(this.select === CRYPTO_RC4 ? Infinity : 0, this.select);
        }
        case 'open':
          return undefined;
      }
    }
  }

  /** Handshake done: from here on bytes flow to and from the consumer. Returns the bytes after it. */
  private open(decLeft: number, select: number): Uint8Array {
    this.stopTimer();
    this.phase = 'open';
    this.decLeft = decLeft;
    if (decLeft === 0) this.dec = undefined;
    this.encAfterOpen = select === CRYPTO_RC4;
    if (!this.encAfterOpen) this.enc = undefined;
    const rest = this.buf.subarray(this.pos);
    this.buf = new Uint8Array(0);
    this.dh = undefined;
    this.s = undefined;
    for (const q of this.queued.splice(0)) this.write(q);
    this.queuedBytes = 0;
    return rest;
  }
}

/** Wraps an incoming TCP connection: plaintext BitTorrent handshakes pass through (policy
 *  permitting), anything else is answered as an MSE responder. `infoHashes` lists the torrents a
 *  peer may ask for. The returned Connection carries the plaintext BitTorrent stream. */
export function acceptMse(
  raw: Connection,
  opts: { policy: EncryptionPolicy; infoHashes: () => Iterable<Uint8Array>; timeoutMs?: number },
): Connection {
  if (opts.policy === 'disabled') return raw;
  return new MseConnection(raw, opts, false);
}

/** Wraps an outgoing TCP connection in an MSE initiator. The first 68 bytes written must be the
 *  BitTorrent handshake (Peer writes it first thing): its infohash keys the exchange and it is
 *  sent as IA. Under 'require' only RC4 is offered; otherwise plaintext and RC4. */
export function encryptOutgoing(raw: Connection, opts: { policy: EncryptionPolicy; timeoutMs?: number }): Connection {
  return new MseConnection(raw, opts, true);
}

/** A Dialer whose connections run the MSE initiator when the policy is 'require'. */
export function mseDialer(inner: Dialer, policy: EncryptionPolicy): Dialer {
  if (policy !== 'require') return inner;
  return { dial: async (addr, signal, opts) => encryptOutgoing(await inner.dial(addr, signal, opts), { policy }) };
}
