// The browser's identity store: the user's keys in IndexedDB (see kv.ts), under `identity`. The web
// app signs in to the node with the same identity, so this is also where it keeps a binding of the
// identity to an external wallet (`binding`), which it sends along at the next sign-in.
import { deserializeIdentity, generateIdentity, type Binding, type Identity, serializeIdentity, type StoredIdentity } from '../src/wire/identity.ts';
import { kvGet, kvPut } from './kv.ts';

const KEY = 'identity';
const BINDING_KEY = 'binding';

export async function loadIdentity(): Promise<Identity | undefined> {
  const s = await kvGet<StoredIdentity>(KEY);
  return s ? deserializeIdentity(s) : undefined;
}

export async function saveIdentity(id: Identity): Promise<void> {
  await kvPut(KEY, serializeIdentity(id));
}

// The chat and the sign-in screen may both ask before any identity exists: without this they would
// each generate one and the later save would silently replace the key the other just used.
let creating: Promise<Identity> | undefined;

/** The stored identity, or a new one (saved before it is returned). */
export function loadOrCreateIdentity(): Promise<Identity> {
  creating ??= (async () => {
    const existing = await loadIdentity();
    if (existing) return existing;
    const id = generateIdentity('');
    await saveIdentity(id);
    return id;
  })().finally(() => {
    // Only the in-flight call is shared: an identity imported later must be read afresh.
    creating = undefined;
  });
  return creating;
}

/** The stored wallet binding, if it is one of `did` (an imported identity makes an old one stale). */
export async function loadWalletBinding(did: string): Promise<Binding | undefined> {
  const b = await kvGet<Binding>(BINDING_KEY);
  return b && b.did === did ? b : undefined;
}

export async function saveWalletBinding(b: Binding | undefined): Promise<void> {
  await kvPut(BINDING_KEY, b ?? null);
}
