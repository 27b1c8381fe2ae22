// With no node running, the verbs that only change stored things (settings, limits, categories,
// tags, add options) work on the state DB through the node model itself (NodeModel, the one the
// running node uses) over a session with no torrent running — which is what "offline" is — so an
// offline change is checked, refused or kept exactly as the running node would.

import { NodeModel, loadModelState, resolveInfoHash, silentLog, type ModelState, type StateDB, type SessionHandle } from '@cascade/node/verbs';

/** The engine session of a node that is not running: nothing loaded, limits only stored (the next serve applies them). */
const NOTHING_RUNNING = {
  list: () => [],
  get: () => undefined,
  setRateLimits: () => {},
} satisfies Pick<SessionHandle, 'list' | 'get' | 'setRateLimits'> as unknown as SessionHandle;

export class OfflineModel {
  readonly #db: StateDB;
  readonly model: NodeModel;

  constructor(db: StateDB, state: ModelState) {
    this.#db = db;
    this.model = new NodeModel({ session: NOTHING_RUNNING, db, state, out: silentLog });
    // Nothing runs, so there is no traffic to account for: its sampling timer is not wanted.
    void this.model.stop();
  }

  /** Full infohash of a stored torrent from a full one or a unique prefix. */
  resolve(hash: string): string {
    return resolveInfoHash(hash, this.#db.listTorrents().map((r) => r.infoHash));
  }

  /** Applies a torrent patch (limits, category, tags…; not savePath: moving data needs the node). */
  async setTorrent(hash: string, patch: Record<string, unknown>): Promise<string> {
    const ih = this.resolve(hash);
    await this.model.setTorrent(ih, patch);
    return ih;
  }

  async torrentLimits(hash: string, patch: { downloadLimit?: number; uploadLimit?: number }) {
    const ih = Object.keys(patch).length > 0 ? await this.setTorrent(hash, patch) : this.resolve(hash);
    const rec = this.#db.getTorrent(ih)!;
    return { infoHash: ih, name: rec.name, downloadLimit: rec.downloadLimit, uploadLimit: rec.uploadLimit };
  }

  async torrentTags(hash: string, action: 'add' | 'remove' | undefined, names: string[]): Promise<{ infoHash: string; tags: string[] }> {
    const ih = this.resolve(hash);
    const tags = action === undefined ? this.#db.getTorrent(ih)!.tags : await this.model.changeTags(ih, names, action);
    return { infoHash: ih, tags };
  }
}

export async function offlineModel(db: StateDB): Promise<OfflineModel> {
  return new OfflineModel(db, await loadModelState(db.store));
}
