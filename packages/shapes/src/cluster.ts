// A cluster of nodes on one PostgreSQL database (issue 42): who its members are and how each is
// doing, as GET /api/cluster answers and `cascade cluster --json` prints. A node that is not in a
// cluster answers with itself alone and replicas 1, so a dashboard can always ask.

/** One member, as the database knows it (its lease, on the database's clock). */
export interface ClusterMember {
  /** The member's node key as a did:key: stable across restarts. */
  id: string;
  /** The HTTP address the other members reach it at (`serve --cluster-url`). */
  url: string;
  /** Its lease has not run out (renewed every 2 s, 6 s long). */
  alive: boolean;
  /** Its last renewal, ISO 8601 (the database's clock). */
  lastSeen: string;
  /** Torrents it runs. */
  torrents: number;
  /** Free bytes where it saves data. */
  freeBytes: number;
  /** Bytes/s of piece data, over its last renewal's interval. */
  downloadRate: number;
  uploadRate: number;
  /** Bumped at each join and each time it is declared dead: a member renewing an older one was fenced. */
  epoch: number;
  /** It holds the coordinator's lease (one member at a time declares the dead ones). */
  coordinator: boolean;
  /** The member that answered. */
  self: boolean;
}

export interface ClusterView {
  members: ClusterMember[];
  /** How many members hold each torrent: the replicas setting, else 2 with two or more members alive, else 1. */
  replicas: number;
}

/** A member holding a copy of a torrent (issue 42: a torrent's detail, GET /api/torrents/:infoHash).
 *  A node that is not in a cluster is the one holder of each of its torrents. */
export interface TorrentHolder {
  /** The member's id (its node key as a did:key). */
  member: string;
  /** Verified pieces over pieces on its disk, 0 to 1, as of its last resume save. */
  progress: number;
  /** Its running status there: queued | downloading | seeding | paused | error. */
  state: string;
  /** Its member's lease is live and the copy is registered at its current epoch: it counts toward
   *  `replicas`. A dead member's copies stay listed, not alive (it may come back with them). */
  alive: boolean;
  /** The member's HTTP address (`serve --cluster-url`); null on a node not in a cluster. */
  url: string | null;
  /** With state `error`: why the copy stopped there (a full disk: `disk error: ENOSPC: no space left
   *  on device, write`); such a copy does not count toward `replicas`. Else null. */
  error: string | null;
  /** Where its copy is on that member's disk (paths are each member's own); null while the copy
   *  is placed there and not taken yet. */
  savePath: string | null;
  /** A save path moved through another member that this holder has not moved its copy to yet
   *  (as the user gave it: a relative path is under each member's download dir); null: none. */
  moveTo: string | null;
  /** Why the last move asked of this holder failed there (its copy stayed); null: it did not. */
  moveError: string | null;
}
