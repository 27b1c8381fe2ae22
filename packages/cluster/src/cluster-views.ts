// A cluster member's views kept current with what the others write (issue 42 step 4): the changes
// the bus brings (change-bus.ts) are read again from the Store into the views the node serves from
// (torrent records and so the listing and the feed, settings, categories, created tags, the API
// token, content ids), and the node's own events follow as for a change made here (node.changed(),
// the settings' listeners), so the live feed and the compatible APIs see them. What has no view
// (users and sessions, RSS) is read from the Store anyway: those tables are only told to whoever
// asked (onTable: the HTTP face drops feed sockets of a removed user, RSS re-arms its timer).
//
// While the bus is down every view is read again each POLL_MS (the Store is still the truth; a
// torrent record is marked changed only if it did), and once the bus is back once more: nothing
// written meanwhile is missed. A torrent another member added is listed here and run only once the
// coordinator places it here (a holder row of this member: TorrentRecords.heldHere, placement.ts,
// holdings.ts). One another member removed from the library stops here if it ran here, its copy
// deleted when the remover asked for the data to go.

import type { ApiToken, NodeContentIds, NodeLog, NodeModel, SessionHandle, StateDB } from '@cascade/node';
import { errorMessage } from '@cascade/node/basics';
import type { Change, ChangeBus } from './change-bus.ts';

/** What of a node (CascadeNode) the views keep current: the parts another member's write may change. */
export interface ViewedNode {
  readonly db: Pick<StateDB, 'records'>;
  readonly session: Pick<SessionHandle, 'get' | 'list'>;
  readonly model: Pick<NodeModel, 'applyStored' | 'settings' | 'categories' | 'options'>;
  readonly queue: { apply(infoHashes: readonly string[]): unknown };
  readonly control: { readonly apiToken: Pick<ApiToken, 'reload'> } | undefined;
  readonly content: { readonly cids: Pick<NodeContentIds['cids'], 'forget' | 'load'> };
  readonly out: Pick<NodeLog, 'note'>;
  changed(): void;
  isTracked(infoHash: string): boolean;
  /** ownCopy: this member's copy and rows only (the library's row and the others' are the remover's). */
  removeMany(infoHashes: readonly string[], deleteData: boolean, ownCopy: boolean): Promise<Map<string, unknown>>;
}

/** How often the views are read again while the bus is down. */
export const POLL_MS = 3000;

/** Tables read in full by a resync: every one a view is kept of. */
const VIEW_TABLES = ['torrents', 'settings', 'categories', 'created_tags', 'api_token', 'file_cids'] as const;

type TableListener = (key: string | null) => void;

export class ClusterViews {
  readonly #node: ViewedNode;
  readonly #bus: ChangeBus;
  readonly #pollMs: number;
  readonly #listeners = new Map<string, TableListener[]>();
  #poll: NodeJS.Timeout | undefined;
  /** Changes being applied: one batch at a time, in the order they came. */
  #applying: Promise<void> = Promise.resolve();
  #closed = false;
  /** A poll's resync waits in line: the next poll adds none (a slow database is not piled on). */
  #pollWaiting = false;
  /** Torrents removed through another member and added again here, their old copy dropped, while
   *  that add runs: a late notice of the removal must not take the new copy (replaceRemoved). */
  readonly #replacing = new Set<string>();
  /** Resyncs done (tests and the note read it). */
  resyncs = 0;
  /** The member's part as a holder, once it follows the node: loads what the coordinator placed
   *  here (holdings.ts) and moves its copies as asked. */
  holdings: { take(infoHashes: readonly string[]): Promise<void>; moves(): Promise<void>; renamed(infoHash: string): void } | undefined;

  constructor(node: ViewedNode, bus: ChangeBus, opts: { pollMs?: number } = {}) {
    this.#node = node;
    this.#bus = bus;
    this.#pollMs = opts.pollMs ?? POLL_MS;
    bus.onChanges((changes) => this.#queue(() => this.apply(changes)));
    bus.onConnected((up) => {
      if (up) {
        this.#stopPolling();
        // What was written while we heard nothing: read once in full.
        this.#queue(() => this.resync());
      } else this.#startPolling();
    });
    // The views were read as the node opened its state, seconds before now on a loaded machine; the
    // notices of that time found no views to apply to (and the bus may be up already, so no 'up'
    // comes to resync): read once in full. Without it, a torrent removed through another member
    // while this one started stayed listed here for good (bench:crash --cluster, 30 Nov).
    this.#queue(() => this.resync());
    // Polling starts only if the bus is still down one period later.
    if (!bus.connected) {
      this.#poll = setTimeout(() => {
        this.#poll = undefined;
        if (!bus.connected) this.#startPolling();
      }, this.#pollMs);
      this.#poll.unref();
    }
  }

  /** Calls fn with the key of each change another member made to `table` (null: rows unnamed,
   *  or a resync). */
  onTable(table: string, fn: TableListener): void {
    const list = this.#listeners.get(table) ?? [];
    list.push(fn);
    this.#listeners.set(table, list);
  }

  /** Applies others' changes to the views; resolves once they are read. */
  async apply(changes: readonly Change[]): Promise<void> {
    if (changes.some((c) => c.table === '*')) return this.resync();
    const byTable = new Map<string, Set<string | null>>();
    for (const c of changes) {
      const keys = byTable.get(c.table) ?? new Set();
      keys.add(c.key);
      byTable.set(c.table, keys);
    }
    for (const [table, keys] of byTable) await this.#refresh(table, keys.has(null) ? null : [...keys] as string[]);
  }

  /** Every view read again (the bus came back, or a poll while it is down). */
  async resync(): Promise<void> {
    this.resyncs++;
    for (const table of VIEW_TABLES) await this.#refresh(table, null);
    for (const table of this.#listeners.keys()) if (!(VIEW_TABLES as readonly string[]).includes(table)) this.#tell(table, null);
  }

  async #refresh(table: string, keys: string[] | null): Promise<void> {
    const node = this.#node;
    switch (table) {
      case 'torrents': {
        const records = node.db.records;
        const changed = keys ? await records.reload(keys) : await records.reloadAll();
        const removed = { data: [] as string[], keep: [] as string[] };
        const placed: string[] = [];
        for (const ih of changed) {
          if (this.#replacing.has(ih)) continue;
          const t = node.session.get(ih);
          if (!t) {
            // Placed here by the coordinator: this member takes it (its own copy).
            if (records.untaken(ih)) placed.push(ih);
            continue;
          }
          // A torrent this member runs too: its limits, its run state (a pause made through any
          // member is every holder's: its holder row says so) and place in the queue as now stored;
          // gone from the library, it stops here, its copy deleted when the remover deleted its own
          // (this member's tombstone row says which).
          if (!records.has(ih)) removed[(await records.removal(ih)) === 'data' ? 'data' : 'keep'].push(ih);
          else {
            node.model.applyStored(t, true);
            void node.queue.apply([ih]);
            // A file renamed through another member: this copy takes the library's names.
            this.holdings?.renamed(ih);
          }
        }
        for (const [list, deleteData] of [[removed.data, true], [removed.keep, false]] as const) await this.#dropRemoved(list, deleteData);
        if (placed.length > 0) void this.holdings?.take(placed);
        // A save path moved through another member: this member's copy moves too (holder-moves.ts).
        void this.holdings?.moves();
        if (changed.length > 0) node.changed();
        break;
      }
      case 'settings':
        // The settings' listeners (engine limits, queue, the feed's `settings` event) hear it.
        await node.model.settings.reload();
        break;
      case 'categories':
        if (await node.model.categories.reload()) node.changed();
        break;
      case 'created_tags':
        await node.model.options.reloadCreatedTags();
        break;
      case 'api_token':
        await node.control?.apiToken.reload();
        break;
      case 'file_cids':
        for (const ih of keys ?? node.session.list().map((t) => t.infoHashHex)) {
          if (!node.isTracked(ih)) continue;
          node.content.cids.forget(ih);
          await node.content.cids.load(ih);
        }
        break;
    }
    if (keys) for (const k of keys) this.#tell(table, k);
    else this.#tell(table, null);
  }

  /**
   * This member's copies of torrents another member removed: stopped, their data deleted when the
   * remover asked, this member's holder row (the tombstone) and resume record gone. Only its own:
   * the library's row and the others' rows were the remover's to delete, and by now the torrent
   * may be in the library again (added again through some member: a removal applied in full here
   * deleted that new row and tombstoned its new copies, so an acknowledged add was lost: issue 63,
   * bench/crash --cluster).
   */
  async #dropRemoved(list: readonly string[], deleteData: boolean): Promise<void> {
    const node = this.#node;
    for (const [ih, err] of list.length > 0 ? await node.removeMany(list, deleteData, true) : []) {
      if (err) node.out.note(`cluster: stopping ${ih}, removed by another member, failed: ${errorMessage(err)}`);
    }
  }

  /**
   * A torrent this member runs is being added again here. When the library no longer has it
   * (removed through another member, and this member has not dropped its copy yet) the add is a new
   * one: the old copy goes first, in line with the changes being applied, and the returned release
   * (called once the new add settled) lets the views see the torrent again; meanwhile a late notice
   * of the removal leaves the new copy alone. Undefined when the library still has it (an add of a
   * torrent already there, answered as such).
   */
  replaceRemoved(infoHash: string): Promise<(() => void) | undefined> {
    const run = this.#applying.then(async () => {
      const { records } = this.#node.db;
      await records.reload([infoHash]);
      if (records.has(infoHash) || !this.#node.session.get(infoHash)) return undefined;
      this.#replacing.add(infoHash);
      await this.#dropRemoved([infoHash], (await records.removal(infoHash)) === 'data');
      return () => void this.#replacing.delete(infoHash);
    });
    this.#applying = run.then(() => {}, () => {});
    return run;
  }

  #tell(table: string, key: string | null): void {
    for (const fn of this.#listeners.get(table) ?? []) {
      try {
        fn(key);
      } catch (err) {
        this.#node.out.note(`cluster: following a change of ${table} failed: ${errorMessage(err)}`);
      }
    }
  }

  #queue(fn: () => Promise<void>): void {
    this.#applying = this.#applying
      .then(() => (this.#closed ? undefined : fn()))
      .catch((err: unknown) => this.#node.out.note(`cluster: reading another member's change failed: ${errorMessage(err)}`));
  }

  #startPolling(): void {
    if (this.#poll || this.#closed) return;
    // At once too: what was written between the bus going down and now.
    this.#queue(() => this.resync());
    this.#poll = setInterval(() => {
      if (this.#pollWaiting) return;
      this.#pollWaiting = true;
      this.#queue(() => {
        this.#pollWaiting = false;
        return this.resync();
      });
    }, this.#pollMs);
    this.#poll.unref();
  }

  #stopPolling(): void {
    clearTimeout(this.#poll); // the start's grace period, or the polling interval
    clearInterval(this.#poll);
    this.#poll = undefined;
  }

  /** Stops polling and waits for the changes being applied. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopPolling();
    await this.#applying;
  }
}
