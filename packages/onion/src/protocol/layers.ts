// One hop's share of the onion: a ChaCha20 layer each way (every cell through the hop advances its
// counter, as Tor's AES-CTR layers do) and a ChaCha20-Poly1305 seal for the cells addressed to the
// hop itself. A hop peels its layer, then tries to open the seal: success means the cell is for it,
// failure means pass it on (or, at the last hop, that someone tampered with it: the circuit dies).
// Counters are the nonces: cells on a circuit arrive in order, so both ends count alike.
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { PAYLOAD_SIZE, RELAY_PLAIN } from './cells.ts';
import type { HopKeys } from './ntor.ts';

function nonce(counter: number): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setBigUint64(4, BigInt(counter));
  return n;
}

export class HopCrypto {
  private readonly keys: HopKeys;
  private fStream = 0;
  private bStream = 0;
  private fSeal = 0;
  private bSeal = 0;

  constructor(keys: HopKeys) {
    this.keys = keys;
  }

  /** Adds or removes (the same operation) this hop's forward layer. */
  forwardLayer(payload: Uint8Array): Uint8Array {
    return chacha20(this.keys.kf, nonce(this.fStream++), payload);
  }

  backwardLayer(payload: Uint8Array): Uint8Array {
    return chacha20(this.keys.kb, nonce(this.bStream++), payload);
  }

  sealForward(plain: Uint8Array): Uint8Array {
    return seal(this.keys.af, this.fSeal++, plain);
  }

  sealBackward(plain: Uint8Array): Uint8Array {
    return seal(this.keys.ab, this.bSeal++, plain);
  }

  /** The relay plaintext if this hop's forward seal opens (and counts it), else undefined. */
  openForward(payload: Uint8Array): Uint8Array | undefined {
    const plain = open(this.keys.af, this.fSeal, payload);
    if (plain) this.fSeal++;
    return plain;
  }

  openBackward(payload: Uint8Array): Uint8Array | undefined {
    const plain = open(this.keys.ab, this.bSeal, payload);
    if (plain) this.bSeal++;
    return plain;
  }
}

function seal(key: Uint8Array, counter: number, plain: Uint8Array): Uint8Array {
  if (plain.length !== RELAY_PLAIN) throw new Error(`sealing ${plain.length} bytes`);
  return chacha20poly1305(key, nonce(counter)).encrypt(plain);
}

function open(key: Uint8Array, counter: number, payload: Uint8Array): Uint8Array | undefined {
  if (payload.length !== PAYLOAD_SIZE) return undefined;
  try {
    return chacha20poly1305(key, nonce(counter)).decrypt(payload);
  } catch {
    return undefined;
  }
}
