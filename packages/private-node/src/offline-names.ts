// The real names of private shares for a listing made without a running node (`cascade list` on a
// state directory): the library keeps a share under its neutral name (the ciphertext's), and the
// owner — or anyone whose key is stored — should read what it is. The stored key opens the
// manifest, as the running node does when the torrent loads (shares.ts).
import { openManifest, readPrivateInfo } from '@cascade/private-shares';
import type { ListEntry } from '@cascade/shapes';
import { ShareKeys, type ShareKeysDb } from './share-keys.ts';

/** The state directory's library: its torrents' stored bytes. */
export interface NamesDb extends ShareKeysDb {
  readonly records: { torrentBytes(infoHash: string): Promise<Uint8Array | null | undefined> };
}

/** The entries with each readable private share's real name in place of its neutral one. */
export async function withPrivateNames(db: NamesDb, entries: ListEntry[]): Promise<ListEntry[]> {
  const keys = new ShareKeys(db);
  let lib: typeof import('@cascade/engine') | undefined;
  return Promise.all(
    entries.map(async (e) => {
      const stored = await keys.get(e.infoHash);
      const bytes = stored && (await db.records.torrentBytes(e.infoHash));
      if (!stored || !bytes) return e;
      try {
        // Loaded for the first share only: a library of public torrents lists without the engine.
        lib ??= await import('@cascade/engine');
        const info = readPrivateInfo(lib.parseTorrent(bytes).infoBytes);
        if (!info) return e;
        const manifest = await openManifest(info, stored.key);
        // As the running node lists it (listing.ts): the share's own name.
        return { ...e, name: manifest.name };
      } catch {
        return e; // a key that does not open it (or a torrent that is not one): the neutral name stays
      }
    }),
  );
}
