// The node's persistent state, opened through the Store (store.ts): the embedded SQLite file at
// <state-dir>/cascade.db (sqlite-store.ts), or a PostgreSQL database (--database, issue 42). It
// holds the torrent library, the engine's fast-resume records, peer reputation and the node's
// identity; the node's features keep their own tables through the same Store. open() migrates the
// schema and reads every view the node reads synchronously (the identity, the torrent records, the
// resume bitfields, the identity ledger), so nothing here reads the database on first use.

import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.ts';
import { refuseMovedState } from './moved-state.ts';
import { migratePostgres } from './schema.ts';
import { TorrentRecords } from './torrent-records.ts';
import { loadNodeKey } from './node-key.ts';
import { IdentityRecords, listPeers, recordPeers } from './ledger-records.ts';
export { peerScore } from './ledger-records.ts';
import type { Store } from './store.ts';
import type { PostgresStore } from './postgres-store.ts';
import { rowCounts } from './row-counts.ts';
import { ResumeRecords } from './resume-records.ts';
import { SINGLE_NODE, checkMemberId } from './member-rows.ts';
export { MEMBER_TABLES, renameMember, torrentHolders, type TorrentHolder } from './member-rows.ts';

export { SCHEMA_VERSION, StateError } from './schema.ts';
import type { Metainfo, ResumeStore } from '@cascade/engine';
import { type Identity, type IdentityDelta, type IdentityRecord, type PeerDelta, type PeerRecord, type TorrentRecord } from './records.ts';

export type { Identity, IdentityDelta, IdentityRecord, NewTorrent, PeerDelta, PeerRecord, TorrentRecord, TorrentStatus } from './records.ts';
import { makeDirsSync } from '@cascade/engine/make-dirs';

export { countBits } from './resume-records.ts';

export const DB_FILE = 'cascade.db';
export { PEER_ID_PREFIX } from './node-key.ts';

export interface OpenStateOptions {
  /** A postgres:// URL: the state in that PostgreSQL database instead of <state-dir>/cascade.db.
   *  The driver is loaded only then. */
  database?: string;
  /** An open Store to use (migrated here if it is PostgreSQL); it stays the caller's to close. */
  store?: Store;
  /** Whose rows of the per-member tables (member-rows.ts) this state reads and writes: '' (the
   *  default) for a single node, a cluster member's id (its did) otherwise; or a function that
   *  finds it on the migrated store before anything is read (a member's, member-id.ts). */
  memberId?: string | ((store: Store) => Promise<string>);
}

/** The views read at open: what the node reads synchronously. */
interface Views {
  identity: Identity;
  records: TorrentRecords;
  identities: IdentityRecords;
}

export class StateDB {
  /** Where the state is, for messages and `debug`: the SQLite file, or the PostgreSQL URL without its password. */
  readonly path: string;
  /** The node's own files (downloads, control.json, the embedded chain): here whatever holds the state. */
  readonly stateDir: string;
  readonly resumeStore: ResumeStore;
  /** The engine's resume records: saves batched, bitfields in memory (resume-records.ts). */
  readonly resume: ResumeRecords;
  /** What every read and write goes through; the node's stores take it (db.store). */
  readonly store: Store;
  /** This member's id in the per-member tables ('' = a single node): the stores that keep a
   *  member's own rows take it with the store. */
  readonly memberId: string;
  /** A member's reading of others' copies of torrents not loaded here (@cascade/cluster's copies-elsewhere.ts). */ elsewhere: { verifiedPieces(ih: string): number | undefined; files(ih: string): import('@cascade/shapes').FileView[] | null; metainfo(ih: string): Metainfo | undefined } | undefined;
  /** Whether close() closes the store (open() opened it). */
  readonly #ownsStore: boolean;
  #views: Views | undefined;

  private constructor(stateDir: string, store: Store, ownsStore: boolean, memberId: string) {
    this.stateDir = stateDir;
    this.store = store;
    this.memberId = memberId;
    this.path = store.location;
    this.#ownsStore = ownsStore;
    this.resume = new ResumeRecords(this.store, memberId, (ih) => this.#views?.records.get(ih)?.pieceCount);
    this.resumeStore = {
      load: (ih) => this.resume.get(ih),
      save: (ih, data) => this.resume.save(ih, data),
      delete: (ih) => this.resume.delete(ih),
    };
  }

  /**
   * Opens the state (creating or migrating it) and reads its views. Throws StateError with a clear
   * message on a bad file or database, NodeError('unusable') on a PostgreSQL it cannot reach.
   */
  static async open(stateDir: string, o: OpenStateOptions = {}): Promise<StateDB> {
    // 0700: the directory holds the node's private key (in cascade.db) and its downloads.
    makeDirsSync(stateDir, 0o700);
    let store: Store;
    const owns = o.store === undefined;
    if (o.store) store = o.store;
    else if (o.database) store = await (await import('./postgres-store.ts')).PostgresStore.open(o.database);
    else {
      refuseMovedState(stateDir);
      store = SqliteStore.openFile(join(stateDir, DB_FILE));
    }
    let db: StateDB | undefined;
    try {
      if (store.dialect === 'postgres') await migratePostgres(store as PostgresStore);
      const memberId = checkMemberId(typeof o.memberId === 'function' ? await o.memberId(store) : (o.memberId ?? SINGLE_NODE));
      db = new StateDB(stateDir, store, owns, memberId);
      await db.#load();
    } catch (err) {
      if (db) await db.close().catch(() => {});
      else if (owns) await store.close().catch(() => {});
      throw err;
    }
    return db;
  }

  async #load(): Promise<void> {
    const identity = await loadNodeKey(this.store, this.memberId);
    const records = await TorrentRecords.load(this.store, this.memberId);
    await this.resume.load((ih) => records.get(ih)?.infoHash ?? ih);
    const identities = await IdentityRecords.load(this.store, this.memberId);
    this.#views = { identity, records, identities };
  }

  /** Closes the store if open() opened it (a given one stays open). Saves still batched are the
   *  caller's to await first (resume.settled(), as a stopping node does). */
  async close(): Promise<void> {
    if (this.#ownsStore) await this.store.close();
  }

  get #v(): Views {
    if (!this.#views) throw new Error('the state DB is not open');
    return this.#views;
  }

  // ---- identity ----

  /** The node's Ed25519 key pair and 20-byte peer id, made on first open and kept forever. */
  get identity(): Identity {
    return this.#v.identity;
  }

  // ---- torrents ----

  /** The torrent records in memory (torrent-records.ts), read at open. */
  get records(): TorrentRecords {
    return this.#v.records;
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
    return this.resume.verifiedPieces(infoHash) ?? this.elsewhere?.verifiedPieces(infoHash);
  }

  /** The resume record's bitfield, for the file progress of a torrent not checked yet. */
  resumeHave(infoHash: string): Uint8Array | undefined {
    return this.resume.have(infoHash);
  }

  /**
   * This member's tombstone of a torrent and its resume record go (records.dropTombstone), once
   * the copy's files are gone: called with no copy of the torrent loaded here. The resume record
   * goes from this member's view too. Before, only its row went: the view kept the dropped copy's
   * bitfield, so the torrent added again and placed here, until it checked its data, was listed
   * with the old copy's pieces and counted as complete by the queue (a paused copy is not checked
   * until it starts). The saves of the old copy still waiting are written first, so none lands
   * after the delete and brings the record back. True when there was a tombstone.
   */
  async dropTombstone(infoHash: string): Promise<boolean> {
    await this.resume.settled();
    const dropped = await this.records.dropTombstone(infoHash);
    if (dropped) await this.resume.forget([infoHash]);
    return dropped;
  }

  // ---- identities (reputation by verified identity, not by address) ----

  /** The identity ledger in memory, read at open. */
  get identities(): IdentityRecords {
    return this.#v.identities;
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
    return recordPeers(this.store, batch, this.memberId);
  }

  listPeers(limit = 100): Promise<PeerRecord[]> {
    return listPeers(this.store, limit, this.memberId);
  }

  /** Row counts, for `debug`. */
  async counts(): Promise<{ torrents: number; resume: number; peers: number; bannedPeers: number }> {
    return { torrents: this.torrentCount(), ...(await rowCounts(this.store, this.memberId)) };
  }
}
