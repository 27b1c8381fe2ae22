// The browser's identity store: the user's keys in IndexedDB (see kv.ts), under `identity`.
import { deserializeIdentity, generateIdentity, type Identity, serializeIdentity, type StoredIdentity } from '../src/identity.ts';
import { kvGet, kvPut } from './kv.ts';

const KEY = 'identity';

export async function loadIdentity(): Promise<Identity | undefined> {
  const s = await kvGet<StoredIdentity>(KEY);
  return s ? deserializeIdentity(s) : undefined;
}

export async function saveIdentity(id: Identity): Promise<void> {
  await kvPut(KEY, serializeIdentity(id));
}

/** The stored identity, or a new one (saved before it is returned). */
export async function loadOrCreateIdentity(): Promise<Identity> {
  const existing = await loadIdentity();
  if (existing) return existing;
  const id = generateIdentity('');
  await saveIdentity(id);
  return id;
}
