// This browser's own identity (the chat's, in IndexedDB: one identity for chat and sign-in) and what
// the sign-in needs from it, loaded on demand by auth.ts and the Settings identity card: the
// Ed25519/secp256k1 code stays out of the main bundle for pages that are already signed in.
import { bindingMessage, bindWallet, makeBinding, parseSignInMessage, signSignIn, type Binding, type Identity } from '@cascade/identity';
import { loadIdentity, loadOrCreateIdentity, loadWalletBinding, saveWalletBinding } from '@cascade/chat/identity-store';

export type { Binding, Identity };
export { loadIdentity, loadOrCreateIdentity, loadWalletBinding, saveWalletBinding };

/**
 * The signature of the node's did sign-in message, after reading it back: it must be for this
 * page's origin, for this identity, carry the nonce the node named and (when the node said who it
 * is) be for that node. A message that fails any of these is not signed.
 */
export function signChallenge(id: Identity, message: string, expect: { nonce: string; node: string | undefined }): string {
  const f = parseSignInMessage(message);
  if (f instanceof Error) throw new Error(`The node sent a sign-in message this page will not sign: ${f.message}.`);
  if (f.origin !== location.origin) throw new Error(`The sign-in message is for ${f.origin}, not ${location.origin}; not signed.`);
  if (f.did !== id.did) throw new Error('The sign-in message names another identity; not signed.');
  if (f.nonce !== expect.nonce) throw new Error('The sign-in message does not carry the nonce the node named; not signed.');
  if (expect.node && f.node !== expect.node) throw new Error('The sign-in message is for another node; not signed.');
  if (f.expiresAt.getTime() <= Date.now()) throw new Error('The sign-in message has expired; try again.');
  return signSignIn(id, message);
}

/** What goes along with a sign-in: the stored wallet binding (when it is this identity's), else the
 *  identity's own account. Either way the node's session covers the did and that account. */
export async function bindingFor(id: Identity): Promise<Binding> {
  return (await loadWalletBinding(id.did)) ?? makeBinding(id);
}

/** A binding of this identity to a wallet account, from the wallet's signature of the binding text. */
export function walletBinding(id: Identity, address: string, walletSignature: string): Binding {
  return bindWallet(id, address, walletSignature);
}

export { bindingMessage };
