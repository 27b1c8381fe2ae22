// The records client: answers other nodes' cascade_get / cascade_put from a RecordStore, publishes
// this node's statements under every key they are filed under, republishes them before they
// expire, and looks keys up — checking each record as it arrives and dropping what the local
// reputation or the node's own knowledge refuses. Platform-free: the DHT comes in as DhtTransport
// (the engine's DhtQueries on Node).

import type { Identity } from '@cascade/identity';
import { isContentId, isUnixfsCid, parseCid } from '../cid/cid.ts';
import { keywordsOf } from './keywords.ts';
import { keysOf, openRecord, RecordError, recordKey, signRecord, subjectOf, targetOf, type TorrentStatement, type VerifiedRecord } from './record.ts';
import { RecordStore, type StoreLimits } from './store.ts';
import { Reputation } from './reputation.ts';
import type { SearchRow } from '@cascade/shapes';
import type { DhtContact, DhtQueryReply as DhtReply } from '@cascade/engine';

export const GET_METHOD = 'cascade_get';
export const PUT_METHOD = 'cascade_put';
/** Records are issued for this long and published again after REPUBLISH_MS. */
export const RECORD_TTL_SECONDS = 2 * 60 * 60;
export const REPUBLISH_MS = 30 * 60 * 1000;

// A node met on a walk and one answer to a query, as the engine's DHT gives them.
export type { DhtContact, DhtReply };

/** Record bytes in a cascade_get answer to an asker without our token (UDP amplification bound:
 *  a spoofed query must not draw more than a few times its size at someone else). */
export const UNTOKENED_REPLY_BYTES = 800;
/** …and to an asker that brought our token back (it is really at its address). */
export const TOKENED_REPLY_BYTES = 6000;

/** The DHT as this package needs it (structurally the engine's DhtQueries). */
export interface DhtTransport {
  handle(method: string, handler: (args: Record<string, unknown>, from: { host: string; port: number; tokened: boolean }) => Record<string, unknown> | { error: [number, string] }, opts?: { write?: boolean }): void;
  walk(target: Uint8Array, method: string, args: Record<string, unknown>, onReply?: (reply: DhtReply) => void, signal?: AbortSignal): Promise<DhtContact[]>;
  send(contacts: DhtContact[], method: string, args: Record<string, unknown>, onReply?: (reply: DhtReply) => void): Promise<{ accepted: number; errors: string[] }>;
}

/** One search result: @cascade/shapes' SearchRow (the API, the CLI and the web app read the same). */
export type { SearchRow };

/** What the node knows of a torrent it holds complete: its files' content ids (undefined: unknown). */
export type KnownCids = (infoHash: string) => string[] | undefined;

export interface DhtRecordsOptions {
  dht: DhtTransport;
  /** Signs this node's own records; without one the node stores and reads but does not publish. */
  identity?: Pick<Identity, 'signSecret' | 'signPublic' | 'did'>;
  knownCids?: KnownCids;
  /** The UnixFS CIDs (folder and files) of a torrent this node holds with every one computed, else
   *  undefined: a record's `u` naming another is a contradiction (issue 61). */
  knownUnixfs?: KnownCids;
  reputation?: Reputation;
  limits?: Partial<StoreLimits>;
  now?: () => number;
}

export interface PublishResult {
  keys: number;
  /** Puts accepted by other nodes, all keys together. */
  accepted: number;
  errors: string[];
}

export class DhtRecords {
  readonly store: RecordStore;
  readonly reputation: Reputation;
  private readonly opts: DhtRecordsOptions;
  private readonly now: () => number;
  private republish: ReturnType<typeof setInterval> | undefined;
  private firstRun: ReturnType<typeof setTimeout> | undefined;
  /** Statements waiting for their turn, by their JSON (the same one asked again waits once), with
   *  whoever asked: what is queued is only what still has to go out (see publish). */
  private readonly pending = new Map<string, { s: TorrentStatement; waiting: PromiseWithResolvers<PublishResult>[] }>();
  /** This node's own records in its store, by torrent (its id in the node: the v1 infohash, else the
   *  v2 one cut to 40 digits) then subject (subjectOf; a listing is one of its own): their targets.
   *  A removed torrent's records went on being served for up to their 2 h life (and counted against
   *  this node's own publisher limit), a renamed one's old words' too; the soak's store grew ~2 MB/h
   *  that way (bench/soak/README.md). forget() and each publish drop them. */
  private readonly own = new Map<string, Map<string, OwnRecords>>();
  private draining = false;
  private republishing = false;
  private closed = false;

  constructor(opts: DhtRecordsOptions) {
    this.opts = opts;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.reputation = opts.reputation ?? new Reputation();
    this.store = new RecordStore({ limits: opts.limits, now: this.now, contradicts: (r) => this.contradiction(r) });
    opts.dht.handle(GET_METHOD, (a, from) => this.answerGet(a, from.tokened));
    opts.dht.handle(PUT_METHOD, (a, from) => this.answerPut(a, from.host), { write: true });
  }

  /** Files `s` under all its keys (infohashes, content ids, name words) at the nodes closest to each. */
  publish(s: TorrentStatement): Promise<PublishResult> {
    // One at a time: a node starting with thousands of seeds walks the DHT for them in turn, not all
    // at once. The queue was a chain of promises, each holding its statement and its caller's
    // closure (the node's torrent) until every walk before it ended: on a slow DHT, under churn, a
    // torrent removed long ago stayed in memory while the chain grew (bench/soak: 52 of 354 Torrent
    // objects were removed ones, held by that chain). Now a statement already waiting is not queued
    // twice, and forget() drops a removed torrent's.
    const key = JSON.stringify(s);
    const waiter = Promise.withResolvers<PublishResult>();
    const queued = this.pending.get(key);
    if (queued) queued.waiting.push(waiter);
    else this.pending.set(key, { s, waiting: [waiter] });
    void this.drain();
    return waiter.promise;
  }

  /** Drops what waits to be published for this torrent (v1 or v2 infohash): it left the library.
   *  Whoever asked is answered with nothing published. */
  forget(infoHash: string): void {
    for (const [key, { s, waiting }] of this.pending) {
      if (!isAbout(s, infoHash)) continue;
      this.pending.delete(key);
      for (const w of waiting) w.resolve({ keys: 0, accepted: 0, errors: [] });
    }
    // Its records here go too: this node no longer has it to give.
    for (const id of [infoHash, infoHash.slice(0, 40)]) {
      for (const mine of this.own.get(id)?.values() ?? []) dropOwn(this.store, mine, mine.targets.keys());
      this.own.delete(id);
    }
  }

  /** Publishes the waiting statements in turn, oldest first, until none is left. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.pending.entries().next(); !next.done; next = this.pending.entries().next()) {
        const [key, { s, waiting }] = next.value;
        this.pending.delete(key);
        await this.publishNow(s).then((r) => waiting.forEach((w) => w.resolve(r)), (err: unknown) => waiting.forEach((w) => w.reject(err)));
      }
    } finally {
      this.draining = false;
    }
  }

  private async publishNow(s: TorrentStatement): Promise<PublishResult> {
    const id = this.opts.identity;
    if (!id) throw new Error('this node has no identity to sign records with');
    const result: PublishResult = { keys: 0, accepted: 0, errors: [] };
    const subject = subjectOf(s);
    const torrent = s.infoHash ?? s.infoHashV2?.slice(0, 40) ?? '';
    const subjects = this.own.get(torrent) ?? new Map<string, OwnRecords>();
    this.own.set(torrent, subjects);
    // What an earlier publish left here stays listed until this one is through (forget() drops all).
    const before = subjects.get(subject);
    const mine: OwnRecords = { id: before?.id, targets: new Map(before?.targets) };
    subjects.set(subject, mine);
    const current = () => !this.closed && this.own.get(torrent)?.get(subject) === mine;
    const put = new Set<string>(); // the keys of this statement
    for (const key of keysOf(s)) {
      // Forgotten (or published again) during a walk: nothing more of it is kept here.
      if (!current()) break;
      const { bytes, sig } = signRecord(id, key, s, this.now(), RECORD_TTL_SECONDS);
      const target = targetOf(key);
      // Kept here under the limits any publisher has: past them (a ninth torrent with the same word,
      // more than 512 records) this node keeps no copy, and the others are still asked to. Before,
      // the refusal ended the publish: a node of a few hundred torrents published no more.
      const refused = this.keepOwn(mine, key, bytes, sig, target);
      if (refused) result.errors.push(`kept here: ${refused}`);
      put.add(key);
      const contacts = await this.opts.dht.walk(target, GET_METHOD, { k: key });
      const sent = await this.opts.dht.send(contacts, PUT_METHOD, { r: bytes, s: sig, target });
      result.keys++;
      result.accepted += sent.accepted;
      result.errors.push(...sent.errors);
    }
    // Keys the statement had before and no longer has (a rename's old words): its records there go.
    if (current()) {
      const gone = [...mine.targets.keys()].filter((key) => !put.has(key));
      dropOwn(this.store, mine, gone);
      for (const key of gone) mine.targets.delete(key);
    }
    return result;
  }

  /** Puts one of this node's records in its own store; says why not when the limits refuse it. */
  private keepOwn(mine: OwnRecords, key: string, bytes: Uint8Array, sig: Uint8Array, target: Uint8Array): string | undefined {
    try {
      const record = this.store.put(bytes, sig, target, '');
      mine.id = { publisher: record.publisher, subject: subjectOf(record) };
      mine.targets.set(key, target);
      return undefined;
    } catch (err) {
      if (err instanceof RecordError) return err.message;
      throw err;
    }
  }

  /**
   * Publishes what `statements()` returns `firstAfterMs` from now (the routing table fills in the
   * meantime; torrents indexed before then publish themselves) and again every `everyMs`, well
   * inside the records' 2 h life.
   */
  keepPublished(statements: () => TorrentStatement[], opts: { everyMs?: number; firstAfterMs?: number; onError?: (err: Error) => void } = {}): void {
    const run = async () => {
      // A round that outlasts the period (a large library on a slow DHT) is not overlapped by the next.
      if (this.republishing) return;
      this.republishing = true;
      try {
        for (const s of statements()) {
          if (this.closed) return;
          await this.publish(s).catch((err: Error) => opts.onError?.(err));
        }
      } finally {
        this.republishing = false;
      }
    };
    clearInterval(this.republish);
    clearTimeout(this.firstRun);
    this.firstRun = setTimeout(() => void run(), opts.firstAfterMs ?? 60_000);
    this.firstRun.unref?.();
    this.republish = setInterval(() => void run(), opts.everyMs ?? REPUBLISH_MS);
    this.republish.unref?.();
  }

  /** The records under `key` here and at the nodes closest to it, checked, one per publisher and torrent. */
  async lookup(key: string, signal?: AbortSignal): Promise<SearchRow[]> {
    const found = new Map<string, { record: VerifiedRecord; providers: Set<string> }>();
    const take = (bytes: unknown, sig: unknown, host: unknown) => {
      let record: VerifiedRecord;
      try {
        record = openRecord(bytes as Uint8Array, sig as Uint8Array, { now: this.now(), key });
      } catch {
        return; // forged, expired or misfiled: a hostile or stale storing node; the record says nothing
      }
      if (this.reputation.ignores(record.publisher)) return;
      const why = this.contradiction(record);
      if (why) {
        this.reputation.blame(record.publisher, why);
        return;
      }
      const id = `${record.publisher} ${subjectOf(record)}`;
      const had = found.get(id);
      const entry = had && had.record.issued >= record.issued ? had : { record, providers: had?.providers ?? new Set<string>() };
      const addr = typeof host === 'string' ? providerAddress(host, record.port) : undefined;
      if (addr && entry.providers.size < 8) entry.providers.add(addr);
      found.set(id, entry);
    };
    const target = targetOf(key);
    for (const e of this.store.get(target, 64, 64_000)) take(e.record.bytes, e.record.sig, e.host);
    const onReply = ({ from, r }: DhtReply) => {
      if (r.more) fuller.add(`${from.host}:${from.port}`);
      if (!Array.isArray(r.rs)) return;
      for (const item of r.rs.slice(0, 32)) {
        if (item && typeof item === 'object') take((item as Record<string, unknown>).r, (item as Record<string, unknown>).s, text((item as Record<string, unknown>).h));
      }
    };
    const fuller = new Set<string>();
    const contacts = await this.opts.dht.walk(target, GET_METHOD, { k: key }, onReply, signal);
    // Nodes that held more than an answer to a stranger carries: asked again with their token.
    const again = contacts.filter((c) => fuller.has(`${c.host}:${c.port}`));
    if (again.length > 0 && !signal?.aborted) await this.opts.dht.send(again, GET_METHOD, { k: key, target }, onReply);
    return [...found.values()].map(({ record, providers }) => rowOf(record, [...providers]));
  }

  /** Searches by content id, infohash (40 or 64 hex) or words (every word must be in the name).
   *  An aborted `signal` ends the DHT walks with what they found so far. */
  async search(query: string, signal?: AbortSignal): Promise<SearchRow[]> {
    const q = query.trim();
    // Any other CID is said to be neither kind (recordKey's error), not searched as a word.
    if (isContentId(q) || isUnixfsCid(q) || parseCid(q)) return this.lookup(recordKey('cid_idx', q), signal);
    if (/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(q)) return this.lookup(recordKey('info_hash_idx', q), signal);
    const words = keywordsOf(q);
    if (words.length === 0) throw new RecordError(`nothing to search for in ${JSON.stringify(query)} (words of 2 letters or more, a content id or an infohash)`);
    const lists = await Promise.all(words.slice(0, 4).map((w) => this.lookup(recordKey('keyword_idx', w), signal)));
    const seen = new Set<string>();
    return lists.flat().filter((row) => {
      const id = `${row.publisher} ${row.infoHash ?? row.infoHashV2}${row.market ? ` ${row.market.link}` : ''}`;
      if (seen.has(id)) return false;
      seen.add(id);
      const nameWords = keywordsOf(row.name);
      return words.every((w) => nameWords.includes(w));
    });
  }

  /** The torrents a content id is in (infohashes, publisher, providers): what `download <cid>` starts from. */
  async resolveContentId(cid: string): Promise<SearchRow[]> {
    return this.lookup(recordKey('cid_idx', cid));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.republish);
    clearTimeout(this.firstRun);
  }

  private contradiction(r: VerifiedRecord): string | undefined {
    const known = this.opts.knownCids;
    for (const ih of [r.infoHash, r.infoHashV2]) {
      const cids = ih ? known?.(ih) : undefined;
      if (!cids) continue;
      const wrong = r.cids.find((c) => !cids.includes(c));
      if (wrong) return `torrent ${ih} has no file with content id ${wrong}`;
    }
    for (const ih of [r.infoHash, r.infoHashV2]) {
      const roots = ih ? this.opts.knownUnixfs?.(ih) : undefined;
      const wrong = roots && r.unixfsCids.find((c) => !roots.includes(c));
      if (wrong) return `torrent ${ih} has no file or folder with UnixFS CID ${wrong}`;
    }
    return undefined;
  }

  private answerGet(a: Record<string, unknown>, tokened: boolean): Record<string, unknown> {
    if (!(a.target instanceof Uint8Array) || a.target.length !== 20) return { error: [203, `${GET_METHOD}: target must be 20 bytes`] };
    const all = this.store.get(a.target, 12, TOKENED_REPLY_BYTES);
    const rs = this.store.get(a.target, 12, tokened ? TOKENED_REPLY_BYTES : UNTOKENED_REPLY_BYTES).map((e) => ({ r: e.record.bytes, s: e.record.sig, h: e.host || undefined }));
    // More than an untokened answer carries: say so, and the asker asks again with our token.
    return rs.length < all.length ? { rs, more: 1 } : { rs };
  }

  private answerPut(a: Record<string, unknown>, host: string): Record<string, unknown> | { error: [number, string] } {
    if (!(a.target instanceof Uint8Array) || a.target.length !== 20) return { error: [203, `${PUT_METHOD}: target must be 20 bytes`] };
    if (!(a.r instanceof Uint8Array) || !(a.s instanceof Uint8Array)) return { error: [203, `${PUT_METHOD}: r and s must be byte strings`] };
    try {
      this.store.put(a.r, a.s, a.target, host);
      return {};
    } catch (err) {
      if (err instanceof RecordError) return { error: [206, `${PUT_METHOD}: ${err.message}`] };
      throw err;
    }
  }
}

/** This node's records about one torrent in its store: under which keys, and as whose about what. */
interface OwnRecords {
  /** The records' publisher and subject, as the store keeps them (set by the first one put). */
  id: { publisher: string; subject: string } | undefined;
  /** key → its DHT target */
  targets: Map<string, Uint8Array>;
}

function dropOwn(store: RecordStore, mine: OwnRecords, keys: Iterable<string>): void {
  if (!mine.id) return;
  for (const key of keys) store.remove(mine.targets.get(key)!, mine.id.publisher, mine.id.subject);
}

/** Whether a statement is about the torrent the node knows as `infoHash`: a v2-only torrent goes by
 *  its v2 hash cut to 40 digits in the node, by the whole one here. */
function isAbout(s: { infoHash: string | null; infoHashV2: string | null }, infoHash: string): boolean {
  return s.infoHash === infoHash || s.infoHashV2 === infoHash || s.infoHashV2?.slice(0, 40) === infoHash;
}

/** A magnet for a found torrent: its infohash(es), name, and its providers as BEP 9 x.pe peers. */
export function magnetOfRow(r: Pick<SearchRow, 'infoHash' | 'infoHashV2' | 'name' | 'providers'>): string {
  const parts = [r.infoHash ? `xt=urn:btih:${r.infoHash}` : '', r.infoHashV2 ? `xt=urn:btmh:1220${r.infoHashV2}` : '', `dn=${encodeURIComponent(r.name)}`];
  for (const p of r.providers) parts.push(`x.pe=${encodeURIComponent(p)}`);
  return `magnet:?${parts.filter(Boolean).join('&')}`;
}

function rowOf(r: VerifiedRecord, providers: string[]): SearchRow {
  const market = r.market ? { ...r.market, link: `cascade://market/${r.market.chainId}/${r.market.contract}/${r.market.listingId}` } : undefined;
  return { infoHash: r.infoHash, infoHashV2: r.infoHashV2, name: r.name, length: r.length, cids: r.cids, ...(r.unixfsCids.length > 0 ? { unixfsCids: r.unixfsCids } : {}), publisher: r.publisher, providers, ...(market ? { market } : {}) };
}

function text(v: unknown): string | undefined {
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : typeof v === 'string' ? v : undefined;
}

function providerAddress(host: string, port: number): string | undefined {
  if (!port || !/^[0-9a-f.:]{2,45}$/i.test(host)) return undefined;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
