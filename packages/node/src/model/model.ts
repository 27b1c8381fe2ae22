// The node model: the one set of operations on settings, categories, tags and each torrent's own
// options that the HTTP API, the control endpoint (CLI) and protocol adapters all call. Inputs are
// checked here (InvalidInput naming the field → HTTP 400 / exit 2; unknown category → 409; unknown
// torrent → 404), so every door refuses the same things with the same words and changes nothing
// when it refuses.

import { join } from 'node:path';
import { makeDirs } from '@cascade/engine/make-dirs';
import type { StateDB } from '@cascade/node-state';
import { NodeError, InvalidInput, errorMessage } from '@cascade/node-state/errors';
import type { Queryable, Store } from '@cascade/node-state/store';
import type { SessionHandle, TorrentHandle } from '../core/engine.ts';
import type { NodeLog } from '../core/node-log.ts';
import type { PendingTotals } from '../listing/listing.ts';
import { SettingsStore, applyPatch, defaultSettings, effectiveRateLimits, readStoredSettings, type Settings, type StoredSettings } from './settings.ts';
import { rememberPeersIn } from '../peers/manual-peers.ts';
import { CategoryStore, MAX_CATEGORIES, UnknownCategory, categoryName, readStoredCategories, type Category, type CategoryRow, type StoredCategories } from './categories.ts';
import { TorrentOptionsStore, parseTorrentPatch, readCreatedTags, type StoredOptions, type TorrentPatch } from './torrent-options.ts';
import { Accounting } from './accounting.ts';
import { shareWarning, type Reach } from './share.ts';
import { MetadataWatch, STALLED_AFTER_MS, stalledReason } from './stalled.ts';
import { bool, fail, objectOf, saveDir, tagList } from './validate.ts';
import type { AddInput } from '../core/node-parts.ts';
import { setPieceOrder } from '../files/torrent-edits.ts';
import { MoveFailed, moveJournalled } from '@cascade/engine/move-journal';

/** Add options as a door gives them (AddInput, all optional), and as they are after the model resolved them. */
export type { AddInput } from '../core/node-parts.ts';
export interface AddPlan {
  savePath: string;
  category: string | null;
  tags: string[];
  paused: boolean;
}

/** What the model keeps in memory (its readers are synchronous: the queue's tick, the listing),
 *  read from the Store before the model is made; the Store stays the truth (packages/node/README.md). */
export interface ModelState {
  settings: StoredSettings;
  categories: StoredCategories;
  /** Tags created ahead of any torrent. */
  createdTags: string[];
}

export async function loadModelState(store: Store): Promise<ModelState> {
  return { settings: await readStoredSettings(store), categories: await readStoredCategories(store), createdTags: await readCreatedTags(store) };
}

export interface ModelParts {
  session: SessionHandle;
  db: StateDB;
  /** From loadModelState(db.store). */
  state: ModelState;
  out: NodeLog;
  /** The download dir when settings name none yet (`serve --download-dir`, or <state>/downloads). */
  downloadDir?: string | undefined;
}

/** An add's options and the writes that go with its row (NodeModel.addStore). */
export interface AddStore {
  readonly options: StoredOptions;
  within(tx: Queryable): Promise<void>;
  committed(): void;
}

export class NodeModel {
  readonly settings: SettingsStore;
  readonly categories: CategoryStore;
  readonly options: TorrentOptionsStore;
  readonly #session: SessionHandle;
  readonly #db: StateDB;
  readonly #accounting: Accounting;
  readonly #metadataWatch = new MetadataWatch();
  readonly #out: NodeLog;
  /** Called after a torrent's options changed (the node plans its queue again: force start, goals). */
  torrentChanged: (infoHash: string) => Promise<void> | void = () => {};
  /** Where the node listens (set by the server): decides whether loopback trackers deserve a warning. */
  reach: Reach = { hosts: [], dht: false };
  /** How long a torrent waits for metadata before its detail explains why (tests shorten it). */
  stalledAfterMs = STALLED_AFTER_MS;

  constructor(parts: ModelParts) {
    this.#session = parts.session;
    this.#db = parts.db;
    this.#out = parts.out;
    this.settings = new SettingsStore(parts.db, parts.state.settings, defaultSettings(parts.downloadDir ?? join(parts.db.stateDir, 'downloads')), (t) => parts.out.note(t));
    this.categories = new CategoryStore(parts.db.store, parts.state.categories);
    this.options = new TorrentOptionsStore(parts.db, parts.state.createdTags);
    this.#accounting = new Accounting(parts.session, this.options, (ih, state, now) => this.#metadataWatch.observe(ih, state, now), (err) =>
      parts.out.note(`saving transfer totals failed (kept for the next try): ${errorMessage(err)}`),
    );
    this.settings.onChange((next, _prev, changed) => {
      const rateKeys = ['downloadLimit', 'uploadLimit', 'altDownloadLimit', 'altUploadLimit', 'altSpeedEnabled'];
      if (changed.some((k) => rateKeys.includes(k))) this.#applySessionLimits(next);
      if (changed.includes('maxActiveChecks')) this.#session.setMaxActiveChecks?.(next.maxActiveChecks);
    });
    this.#session.setMaxActiveChecks?.(this.settings.get().maxActiveChecks);
    this.#applySessionLimits(this.settings.get());
  }

  /** The node's one timer calls this (the queue's tick): traffic totals of the torrents that moved. */
  tick(): void {
    this.#accounting.sample();
  }

  /** How many times the accounting read a torrent's stats (it skips torrents whose revision stayed). */
  get accountingVisits(): number {
    return this.#accounting.visits;
  }

  // ---- settings ----

  getSettings(): Settings {
    return this.settings.get();
  }

  /** Validates and applies any subset of the settings; returns them all. */
  async setSettings(patch: unknown): Promise<Settings> {
    // Checked in full first (nothing stored on a bad field), then the new download dir must be usable.
    const next = applyPatch(this.settings.get(), patch, { stateDir: this.#db.stateDir });
    if (next.downloadDir !== this.settings.get().downloadDir) await this.#makeDir('downloadDir', next.downloadDir);
    return this.settings.update(patch);
  }

  #applySessionLimits(s: Settings): void {
    this.#session.setRateLimits(effectiveRateLimits(s));
  }

  /** Defect 8: a sentence when links with these trackers cannot lead anyone else here; else null. */
  shareWarning(trackers: readonly string[]): string | null {
    return shareWarning(trackers, this.reach);
  }

  /** Defect 9: after ~30 s waiting for metadata, what was tried and what answered; else null. */
  stalledReason(t: TorrentHandle): string | null {
    const waited = this.#metadataWatch.waiting(t.infoHashHex, t.stats().state);
    return waited === undefined ? null : stalledReason(t.discovery(), waited, this.stalledAfterMs);
  }

  // ---- adding ----

  /**
   * Where and how an add goes: the given save path, else its category's, else the download dir;
   * paused if asked or when settings start all paused.
   */
  async planAdd(input: AddInput): Promise<AddPlan> {
    const s = this.settings.get();
    const category = input.category === undefined || input.category === null || input.category === '' ? null : categoryName('category', input.category);
    // As qBittorrent does: an add may name a category that does not exist yet; it is made with the add.
    const cat = category === null ? undefined : this.categories.get(category);
    const tags = input.tags === undefined || input.tags === null ? [] : tagList('tags', input.tags);
    const paused = input.paused === undefined || input.paused === null ? s.startPaused : bool('paused', input.paused);
    let savePath: string;
    if (input.savePath !== undefined && input.savePath !== null && input.savePath !== '') {
      // The node's own download dir is allowed as it is (by default <state>/downloads): an upload is
      // seeded from there and names it again.
      savePath = input.savePath === s.downloadDir ? s.downloadDir : saveDir('savePath', input.savePath, s.downloadDir, this.#db.stateDir);
    } else savePath = cat?.savePath ?? s.downloadDir;
    // Not made here: the engine makes the folders it writes in (a bad place fails the torrent, saying why).
    return { savePath, category, tags, paused };
  }

  /**
   * What an add stores with the torrent's row, for TorrentRecords.add's one transaction (issue 42:
   * all of an add or none of it): its tags, its category — made in that transaction if new, as
   * qBittorrent does; left out, with a note, when the node has MAX_CATEGORIES already — and the
   * peers given with it. `committed` puts a made category in the view once the add is stored.
   */
  addStore(infoHash: string, plan: { readonly category: string | null; readonly tags: readonly string[] }, peers?: readonly string[]): AddStore {
    const options: StoredOptions = plan.tags.length > 0 ? { tags: [...plan.tags] } : {};
    let category: CategoryRow | 'full' | undefined;
    return {
      options,
      within: async (tx) => {
        if (plan.category !== null) {
          category = await this.categories.ensureIn(tx, plan.category);
          if (category !== 'full') options.category = plan.category;
        }
        if (peers) await rememberPeersIn(tx, infoHash, peers);
      },
      committed: () => {
        if (category === 'full') this.#out.note(`torrent ${infoHash} added without its category ${plan.category}: the node has ${MAX_CATEGORIES} categories already`);
        else if (category) this.categories.remember(category);
      },
    };
  }

  /** A torrent entered the session (added, or loaded at start): its stored limits apply, and its
   *  stored super-seeding when on (off, a `cascade seed --super-seed` keeps its own). `exact`
   *  (another cluster member changed it): the stored switch, on or off. */
  applyStored(t: TorrentHandle, exact = false): void {
    const rec = this.#db.records.get(t.infoHashHex);
    const download = rec?.downloadLimit ?? 0;
    const upload = rec?.uploadLimit ?? 0;
    if (download > 0 || upload > 0) t.setRateLimits({ download, upload });
    if (rec && (exact || rec.superSeeding)) t.setSuperSeeding?.(rec.superSeeding);
  }

  async #makeDir(field: string, dir: string): Promise<void> {
    try {
      await makeDirs(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      fail(field, `cannot be created or used as a folder (${typeof code === 'string' ? code : errorMessage(err)})`);
    }
  }

  // ---- one torrent's options ----

  /** A cluster's member (@cascade/cluster's holder-moves.ts): asks every other holder of a torrent to move its
   *  own copy to a save path as the user gave it; how many were asked. Undefined on a single node. */
  forwardMove: ((infoHash: string, given: string) => Promise<number>) | undefined;

  /** What else below the save path moves with a torrent's files (a private share's plaintext
   *  root: node-start.ts), for the move's journal. */
  movesWith: ((infoHash: string) => string[]) | undefined;

  /**
   * Applies a patch to a stored torrent: the data moved for a new savePath (first: a failed move
   * changes nothing), then the stored options, then the limits in the engine.
   */
  async setTorrent(infoHash: string, patchInput: unknown): Promise<TorrentPatch> {
    const patch = parseTorrentPatch(patchInput);
    const rec = this.#db.records.get(infoHash);
    const t = this.#session.get(infoHash);
    if (!rec) throw new NodeError('not-found', `no torrent with infohash ${infoHash}`);
    if (patch.category) this.categories.require(patch.category);
    const s = this.settings.get();
    const savePath = patch.savePath === undefined ? undefined : saveDir('savePath', patch.savePath, s.downloadDir, this.#db.stateDir);
    if (savePath !== undefined && savePath !== rec.savePath && t) {
      await this.#makeDir('savePath', savePath);
      // Journalled until the new path is stored (move-journal.ts): the data is never half here, half there.
      await moveJournalled(this.#db.stateDir, infoHash, t, savePath, this.movesWith?.(infoHash) ?? [], (path) => this.options.setSavePath(infoHash, path))
        .catch((err: unknown) => { throw err instanceof MoveFailed ? new NodeError('failed', err.message) : err; });
    }
    if (savePath !== undefined) {
      // A cluster's other holders each move their own copy (the path as given: a relative one is
      // under each member's own download dir); this member's copy, if any, moved first.
      const others = this.forwardMove ? await this.forwardMove(infoHash, patch.savePath!) : 0;
      if (!t && others === 0) throw new NodeError('failed', `torrent ${infoHash} is in the library but not loaded${this.forwardMove ? ' here nor held by another member' : ''}, so its data cannot be moved`);
    }
    const { savePath: _moved, sequential, firstLastPiece, ...stored } = patch;
    if (sequential !== undefined || firstLastPiece !== undefined) {
      if (!t) throw new NodeError('failed', `torrent ${infoHash} is in the library but not loaded, so the order of its pieces cannot change`);
      await setPieceOrder({ db: this.#db }, t, { ...(sequential !== undefined ? { sequential } : {}), ...(firstLastPiece !== undefined ? { firstLast: firstLastPiece } : {}) });
    }
    // Stored first, then the engine: a write the database refused (503) changes nothing.
    await this.options.set(infoHash, stored);
    if (t && (patch.downloadLimit !== undefined || patch.uploadLimit !== undefined)) {
      t.setRateLimits({
        ...(patch.downloadLimit !== undefined ? { download: patch.downloadLimit } : {}),
        ...(patch.uploadLimit !== undefined ? { upload: patch.uploadLimit } : {}),
      });
    }
    if (t && patch.superSeeding !== undefined) t.setSuperSeeding?.(patch.superSeeding);
    await this.torrentChanged(infoHash);
    return { ...patch, ...(savePath !== undefined ? { savePath } : {}) };
  }

  /** Adds (or removes) tags on a torrent, keeping the others. */
  async changeTags(infoHash: string, tagsInput: unknown, how: 'add' | 'remove'): Promise<string[]> {
    const [next] = await this.changeTagsOf([infoHash], tagsInput, how);
    return next!;
  }

  /** changeTags on several torrents, stored in one transaction; each torrent's tags after it. An
   *  unknown torrent or one past 64 tags fails them all, unless `failed` takes its error. */
  async changeTagsOf(infoHashes: readonly string[], tagsInput: unknown, how: 'add' | 'remove', failed?: (infoHash: string, err: unknown) => void): Promise<string[][]> {
    const given = tagList('tags', tagsInput);
    const changes: [string, StoredOptions][] = [];
    for (const infoHash of infoHashes) {
      try {
        const rec = this.#db.records.get(infoHash);
        if (!rec) throw new NodeError('not-found', `no torrent with infohash ${infoHash}`);
        const next = how === 'add' ? [...new Set([...rec.tags, ...given])] : rec.tags.filter((t) => !given.includes(t));
        if (next.length > 64) throw new InvalidInput(`"tags" a torrent may hold at most 64 tags`);
        changes.push([infoHash, { tags: next }]);
      } catch (err) {
        if (!failed) throw err;
        failed(infoHash, err);
      }
    }
    await this.options.setEach(changes);
    return changes.map(([, o]) => o.tags!);
  }

  // ---- categories and tags ----

  listCategories(): Category[] {
    return this.categories.list();
  }

  /** Creates a category; a category of that name already there is a 409. */
  async addCategory(input: unknown): Promise<Category> {
    const o = objectOf(input, 'the category', ['name', 'savePath']);
    const name = categoryName('name', o.name);
    const savePath = await this.#categoryPath(o.savePath);
    if (!(await this.categories.add({ name, savePath }))) throw new NodeError('conflict', `category "${name}" exists already`);
    return { name, savePath };
  }

  async updateCategory(nameInput: unknown, input: unknown): Promise<Category> {
    const name = categoryName('name', nameInput);
    const o = objectOf(input, 'the category', ['savePath']);
    if (!('savePath' in o)) throw new InvalidInput('"savePath" is missing (null for the download dir)');
    this.categories.require(name);
    return this.categories.setSavePath(name, await this.#categoryPath(o.savePath));
  }

  async removeCategory(nameInput: unknown): Promise<void> {
    const name = categoryName('name', nameInput);
    try {
      await this.categories.remove(name);
    } catch (err) {
      // Gone already (another process removed it): its torrents were uncategorised with it.
      if (err instanceof UnknownCategory) this.#db.records.uncategorise(name);
      throw err;
    }
    // The Store took it (its torrents' category cleared in the same transaction): the view follows.
    this.#db.records.uncategorise(name);
  }

  async #categoryPath(v: unknown): Promise<string | null> {
    if (v === undefined || v === null || v === '') return null;
    const path = saveDir('savePath', v, this.settings.get().downloadDir, this.#db.stateDir);
    await this.#makeDir('savePath', path);
    return path;
  }

  /** Creates tags ahead of any torrent (they are listed with the tags torrents carry). */
  async createTags(tagsInput: unknown): Promise<string[]> {
    const given = tagList('tags', tagsInput);
    await this.options.createTags(given);
    return given;
  }

  /** Deletes tags: from every torrent that carries them, and from those created ahead. */
  async deleteTags(tagsInput: unknown): Promise<void> {
    const given = tagList('tags', tagsInput);
    const carrying = [...this.#db.records.values()].filter((rec) => rec.tags.some((t) => given.includes(t)));
    await this.changeTagsOf(carrying.map((rec) => rec.infoHash), given, 'remove');
    await this.options.deleteCreatedTags(given);
  }

  tags(): string[] {
    return this.options.tags();
  }

  // ---- queue order and totals (the queue manager and the listing read these) ----

  queueOrder(): string[] {
    return this.options.queueOrder();
  }

  setQueueOrder(order: readonly string[]): Promise<void> {
    return this.options.setQueueOrder(order);
  }

  pendingTotals(infoHash: string): PendingTotals | undefined {
    return this.#accounting.pending(infoHash);
  }

  /** A torrent left the library. */
  forget(infoHash: string): void {
    this.#accounting.forget(infoHash);
    this.#metadataWatch.forget(infoHash);
  }

  /** Writes the totals gathered so far; the node calls it on the way out. */
  async stop(): Promise<void> {
    try {
      await this.#accounting.stop();
    } catch (err) {
      this.#out.note(`saving transfer totals failed: ${errorMessage(err)}`);
    }
  }
}
