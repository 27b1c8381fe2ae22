// Library rows for the infohashes a test writes content ids for: file-cids.ts writes ids only for a
// torrent still in the library (one removed while its files were hashed leaves nothing behind).
import type { Store } from '@cascade/node/content-host';

export async function inLibrary(store: Pick<Store, 'run'>, ...infoHashes: string[]): Promise<void> {
  for (const ih of infoHashes) {
    await store.run("INSERT INTO torrents (info_hash, source_kind, magnet, save_path, status, added_at) VALUES (?, 'magnet', ?, '/d', 'seeding', 0)", [ih, ih]);
  }
}
