// Unsent envelopes (ciphertext only) per identity in IndexedDB, so a page closed mid-send resends on return.
import type { OutboxStore } from '../src/client/client.ts';
import type { Envelope } from '../src/wire/envelope.ts';
import { kvGet, kvPut } from './kv.ts';

export function indexedDbOutbox(did: string): OutboxStore {
  const key = `outbox:${did}`;
  let chain: Promise<void> = Promise.resolve();
  return {
    load: async () => (await kvGet<{ envs: Envelope[]; copy: boolean }[]>(key)) ?? [],
    // writes are serialized so an older snapshot never lands after a newer one
    save: (batches) => (chain = chain.then(() => kvPut(key, batches)).catch(() => {})),
  };
}
