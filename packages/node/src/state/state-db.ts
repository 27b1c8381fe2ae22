// The node's persistent state: one embedded SQLite database (node:sqlite) at <state-dir>/cascade.db.
// It holds the torrent library, the engine's fast-resume records, peer reputation and the node's
// identity. WAL mode + one transaction per write means a `kill -9` (or power loss) leaves every
// record either fully old or fully new, never half-written. synchronous=NORMAL (WAL's own advice):
// commits are not fsynced one by one but at each checkpoint, so a power loss may forget the last
// moments' writes (never corrupt them), and adding 10,000 torrents is not 60,000 fsyncs (issue 25).

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.ts';
import { migrate, StateError } from './schema.ts';
import { SqliteStore } from './sqlite-store.ts';
import { RECORD_COLUMNS, TorrentRecords } from './torrent-records.ts';
import { INSERT_IDENTITY } from './upserts.ts';
import { SELECT_NODE_KEY, loadNodeKey, newNodeKey, toIdentity } from './node-key.ts';
import { IdentityRecords, listPeers, recordPeers } from './ledger-records.ts';
export { peerScore } from './ledger-records.ts';
import type { Store } from './store.ts';
import { rowCounts } from './row-counts.ts';
import { ResumeRecords } from './resume-records.ts';

export { SCHEMA_VERSION, StateError } from './schema.ts';
import type { ResumeStore } from '../core/engine.ts';
import { type Identity, type IdentityDelta, type IdentityRecord, type PeerDelta, type PeerRecord, type Row, type TorrentRecord } from './records.ts';

export type { Identity, IdentityDelta, IdentityRecord, NewTorrent, PeerDelta, PeerRecord, TorrentRecord, TorrentStatus } from './records.ts';
import { makeDirsSync } from '@cascade/engine/make-dirs';

export { countBits } from './resume-records.ts';

export const DB_FILE = 'cascade.db';
export { PEER_ID_PREFIX } from './node-key.ts';

export class StateDB {
  readonly path: string;
  readonly stateDir: string;
  readonly resumeStore: ResumeStore;
  /** The engine's resume records: saves batched, bitfields in memory (resume-records.ts). */
  readonly resume: ResumeRecords;
  /** The same file through the Store interface (store.ts): what the node's stores are moving to,
   *  so that PostgreSQL can stand in for SQLite (issue 42). The methods below are the rest. */
  readonly store: Store;
  #db: DatabaseSync;
  #identity: Identity | undefined;
  #records: TorrentRecords | undefined;
  #identities: IdentityRecords | undefined;
  /** Prepared statements by SQL text: preparing one costs more than running it (10,000 adds). */
  #statements = new Map<string, StatementSync>();

  private constructor(stateDir: string, db: DatabaseSync, path: string) {
    this.stateDir = stateDir;
    this.#db = db;
    this.path = path;
    this.store = new SqliteStore(db, path);
    this.resume = new ResumeRecords(this.store);
    this.resumeStore = {
      load: (ih) => this.resume.get(ih),
      save: (ih, data) => this.resume.save(ih, data),
      delete: (ih) => this.resume.delete(ih),
    };
  }

  /** Opens (creating or migrating) the state DB. Throws StateError with a clear message on a bad file. */
  static open(stateDir: string): StateDB {
    // 0700: the DB holds the node's private key.
    makeDirsSync(stateDir, 0o700);
    const path = join(stateDir, DB_FILE);
    const fresh = !existsSync(path);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (err) {
      throw new StateError(`cannot open state DB ${path}: ${errorMessage(err)}`);
    }
    try {
      // SQLite creates -wal/-shm with the main file's permissions, so restrict it first.
      if (fresh) chmodSync(path, 0o600);
      // Another process (serve + a verb) may hold a write lock briefly; wait instead of failing.
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA synchronous = NORMAL');
      migrate(db, path);
    } catch (err) {
      db.close();
      if (err instanceof StateError) throw err;
      throw new StateError(
        `state DB ${path} is unreadable (${errorMessage(err)}); it is corrupted or not a cascade database — ` +
          'move it aside to start with a fresh state',
      );
    }
    return new StateDB(stateDir, db, path);
  }

  close(): void {
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }

  /** A prepared statement (made once per SQL text, then reused), for this class and for stores of
   *  other concerns (auth/store.ts) that keep their own queries. */
  prepare(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (stmt) return stmt;
    // Queries built with a varying number of terms would grow the cache without end.
    if (this.#statements.size >= 500) this.#statements.clear();
    this.#statements.set(sql, (stmt = this.#db.prepare(sql)));
    return stmt;
  }

  // ---- identity ----

  /** The node's Ed25519 key pair and 20-byte peer id, made on first use and kept forever: read
   *  through the Store by loadIdentity() (a node starting), else here on first use (the CLI). */
  get identity(): Identity {
    if (this.#identity) return this.#identity;
    if (!this.prepare(SELECT_NODE_KEY).get()) this.prepare(INSERT_IDENTITY).run(...newNodeKey(Date.now()));
    return (this.#identity = toIdentity(this.prepare(SELECT_NODE_KEY).get() as Row));
  }

  /** Reads (or makes) the node key through the Store; `identity` then gives it. */
  async loadIdentity(): Promise<Identity> {
    if (!this.#identity) {
      const loaded = await loadNodeKey(this.store);
      this.#identity ??= loaded;
    }
    return this.#identity;
  }

  // ---- torrents ----

  /** The torrent records read from the Store (as a node on PostgreSQL must: before the node is
   *  made, startNode); `records` then gives them. */
  async loadRecords(): Promise<TorrentRecords> {
    if (!this.#records) {
      const loaded = await TorrentRecords.load(this.store);
      this.#records ??= loaded;
    }
    if (!this.resume.loaded) await this.resume.load();
    if (!this.#identities) {
      const loaded = await IdentityRecords.load(this.store);
      this.#identities ??= loaded;
    }
    return this.#records;
  }

  /** The torrent records in memory (torrent-records.ts), read on first use unless loadRecords() read
   *  them (the CLI's offline verbs and the tests, on the SQLite file). */
  get records(): TorrentRecords {
    return (this.#records ??= new TorrentRecords(this.store, this.prepare(`SELECT ${RECORD_COLUMNS} FROM torrents`).all() as Row[]));
  }

  /** A stored torrent as the view holds it: without its .torrent bytes (loadTorrent reads them).
   *  The view's own object: read it, do not change it. */
  getTorrent(infoHash: string): TorrentRecord | undefined {
    return this.records.get(infoHash);
  }

  /** A stored torrent with its .torrent bytes, read through the Store: for loading or exporting it. */
  loadTorrent(infoHash: string): Promise<TorrentRecord | undefined> {
    return this.records.withBytes(infoHash);
  }

  /** Every stored torrent (without .torrent bytes), in the order they were added. */
  listTorrents(): TorrentRecord[] {
    return this.records.list();
  }

  /** Every stored infohash. */
  infoHashes(): string[] {
    return [...this.records.values()].map((r) => r.infoHash);
  }

  /** How many torrents the library holds. */
  torrentCount(): number {
    return this.records.size;
  }

  /** Case-insensitive name substring, or infohash prefix. */
  searchTorrents(text: string): TorrentRecord[] {
    return this.records.search(text);
  }

  // ---- resume data (the engine's ResumeStore) ----

  /** Pieces the resume record claims as verified (the listing of a torrent not checked yet). */
  verifiedPieces(infoHash: string): number | undefined {
    return this.#resumeView().verifiedPieces(infoHash);
  }

  /** The resume record's bitfield, for the file progress of a torrent not checked yet. */
  resumeHave(infoHash: string): Uint8Array | undefined {
    return this.#resumeView().have(infoHash);
  }

  /** The resume bitfields, read on first use unless loadRecords() read them (the CLI's offline verbs). */
  #resumeView(): ResumeRecords {
    if (!this.resume.loaded) this.resume.fill(this.prepare('SELECT info_hash, have FROM resume').all().map((r) => [r.info_hash, r.have]));
    return this.resume;
  }

  // ---- identities (reputation by verified identity, not by address) ----

  /** The identity ledger in memory, read on first use unless loadRecords() read it. */
  get identities(): IdentityRecords {
    return (this.#identities ??= new IdentityRecords(this.store, this.prepare('SELECT * FROM identity_ledger').all() as Row[]));
  }

  /** Adds deltas to each identity's record (created on first sight), in one transaction. */
  recordIdentities(deltas: IdentityDelta[]): Promise<void> {
    return this.identities.record(deltas);
  }

  identityRecord(did: string): IdentityRecord | undefined {
    return this.identities.get(did);
  }

  // ---- peers ----

  /** Applies a batch of traffic/ban deltas in one transaction. */
  recordPeers(batch: PeerDelta[]): Promise<void> {
    return recordPeers(this.store, batch);
  }

  listPeers(limit = 100): Promise<PeerRecord[]> {
    return listPeers(this.store, limit);
  }

  /** Row counts, for `debug`. */
  async counts(): Promise<{ torrents: number; resume: number; peers: number; bannedPeers: number }> {
    return { torrents: this.torrentCount(), ...(await rowCounts(this.store)) };
  }
}
