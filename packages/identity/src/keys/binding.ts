// The binding of a did:key to an Ethereum account, signed both ways so anyone can check it offline:
// the did's Ed25519 key signs the address, and the account signs the did (EIP-191 personal_sign, so
// an external wallet such as MetaMask can be the account instead of the built-in one). Both sign the
// same human-readable text, which a wallet shows its user before signing.
import { b64u, fromB64u, utf8 } from '../encoding/encoding.ts';
import { checksumAddress, isAddress, personalSign, verifyPersonalSignature, type Address, type Hex } from './ethereum.ts';
import { isDid, signBytes, verifyBytes, type Identity } from './identity.ts';

export const BINDING_DOMAIN = 'cascade-identity/binding/v1';

export interface Binding {
  v: 1;
  did: string;
  address: Address;
  /** base64url Ed25519 signature of bindingMessage() by the did's key (domain BINDING_DOMAIN). */
  didSig: string;
  /** 0x-hex personal_sign of bindingMessage() by the account. */
  addressSig: Hex;
}

/** What both keys sign. Fixed layout: a verifier rebuilds it from did and address. */
export function bindingMessage(did: string, address: string): string {
  return `Cascade identity binding\n\nDID: ${did}\nEthereum account: ${checksumAddress(address)}\n\nThis account and this DID are one Cascade identity.\nVersion: 1`;
}

/** The identity's own binding: its did and its built-in account. Its account signature is made
 *  here with the account's own key, so it is not recovered again to check it (bindWallet does, for a
 *  wallet's): that recovery was the first secp256k1 arithmetic of a `cascade download` meeting a
 *  Cascade peer, ~10 ms of its start (issue 40). identity.test.ts checks the result verifies. */
export function makeBinding(id: Identity): Binding {
  const message = bindingMessage(id.did, id.address);
  return {
    v: 1,
    did: id.did,
    address: checksumAddress(id.address),
    didSig: b64u(signBytes(id, BINDING_DOMAIN, utf8(message))),
    addressSig: personalSign(id.ethSecret, message).toLowerCase() as Hex,
  };
}

/** A binding to an external wallet's account: `addressSig` is the wallet's personal_sign of
 *  bindingMessage(id.did, address). Throws if that signature is not the wallet's. */
export function bindWallet(id: Identity, address: string, addressSig: string): Binding {
  const message = bindingMessage(id.did, address);
  if (!verifyPersonalSignature(address, message, addressSig)) throw new Error('the wallet signature does not match the account');
  return {
    v: 1,
    did: id.did,
    address: checksumAddress(address),
    didSig: b64u(signBytes(id, BINDING_DOMAIN, utf8(message))),
    addressSig: addressSig.toLowerCase() as Hex,
  };
}

/** Bindings that verified, by their four fields, oldest first. Whether a binding verifies depends
 *  on those fields alone, and a peer sends the same one on every connection: each hello of a
 *  Cascade peer that connects again (a swarm lab peer met its 24 others in 31 hellos) recovered the
 *  account signature's key anew, 2-3 ms of secp256k1 in JavaScript (issue 60). */
const verifiedBindings = new Set<string>();
const VERIFIED_BINDINGS_MAX = 1024;

/** True only for a well-formed binding whose two signatures are both good. */
export function verifyBinding(b: unknown): b is Binding {
  if (!b || typeof b !== 'object') return false;
  const o = b as Record<string, unknown>;
  if (o.v !== 1 || !isDid(o.did) || !isAddress(o.address) || typeof o.didSig !== 'string' || typeof o.addressSig !== 'string') return false;
  const key = JSON.stringify([o.did, o.address, o.didSig, o.addressSig]);
  if (verifiedBindings.has(key)) return true;
  const message = bindingMessage(o.did, o.address);
  let didSig: Uint8Array;
  try {
    didSig = fromB64u(o.didSig);
  } catch {
    return false;
  }
  if (!verifyBytes(o.did, BINDING_DOMAIN, utf8(message), didSig) || !verifyPersonalSignature(o.address, message, o.addressSig)) return false;
  if (verifiedBindings.size >= VERIFIED_BINDINGS_MAX) verifiedBindings.delete(verifiedBindings.values().next().value!);
  verifiedBindings.add(key);
  return true;
}
