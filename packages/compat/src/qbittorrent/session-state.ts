// What one WebUI session holds (its id, last use, sync/maindata's snapshots): types only, shared by
// the session store (session.ts), every action's context (http.ts) and sync/maindata (sync.ts)
// without those files importing one another.

type Obj = Record<string, unknown>;

export interface QbSession {
  readonly id: string;
  /** What it was opened with (CompatOps.credential): it ends once that is not the current one. */
  readonly credential: string;
  lastSeen: number;
  /** sync/maindata's snapshots for this session (created on first use). */
  sync?: SyncState;
}

/** One sync/maindata answer as sent, to diff the next one against. */
export interface Snapshot {
  torrents: Map<string, Obj>;
  /** What the torrents were mapped from: the list's generation, the settings a row shows and the
   *  piece orders' version. A later poll with the same three reuses `torrents` as they are. */
  generation: number;
  settingsKey: string;
  orders: number;
  categories: Map<string, Obj>;
  tags: Set<string>;
  serverState: Obj;
}

export interface SyncState {
  lastRid: number;
  snapshots: Map<number, Snapshot>;
}
