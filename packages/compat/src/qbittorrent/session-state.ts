// What one WebUI session holds (its id, last use, sync/maindata's snapshots): types only, shared by
// the session store (session.ts), every action's context (http.ts) and sync/maindata (sync.ts)
// without those files importing one another.

type Obj = Record<string, unknown>;

export interface QbSession {
  readonly id: string;
  lastSeen: number;
  /** sync/maindata's snapshots for this session (created on first use). */
  sync?: SyncState;
}

/** One sync/maindata answer as sent, to diff the next one against. */
export interface Snapshot {
  torrents: Map<string, Obj>;
  categories: Map<string, Obj>;
  tags: Set<string>;
  serverState: Obj;
}

export interface SyncState {
  lastRid: number;
  snapshots: Map<number, Snapshot>;
}
