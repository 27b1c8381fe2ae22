// Bulk actions: one request acts on many torrents (the web's multi-select bar, `POST
// /api/torrents/bulk`, the control RPC `bulk`). The request is checked whole first (a bad field
// changes nothing); then each action does its DB writes in ONE transaction and plans the queue ONCE,
// so a thousand torrents cost one fsync, not a thousand. Torrents the node does not know get
// {ok: false, error} in the results; the others are done.

import { NodeError, InvalidInput, errorMessage } from '@cascade/node-state/errors';
import type { NodeCore, TorrentVerbs } from '../core/node-parts.ts';
import type { NodeModel } from '../model/index.ts';
import type { QueueManager } from './manager.ts';

/** What a bulk action works with: the session and state, the model, the queue and the verbs. */
export type BulkNode = NodeCore & Pick<TorrentVerbs, 'removeMany' | 'recheck'> & { readonly model: NodeModel; readonly queue: QueueManager };
import type { TorrentHandle } from '../core/engine.ts';
import { bool, fail, objectOf, rate, tagList } from '../model/validate.ts';
import { categoryName } from '../model/categories.ts';
import { isQueueMove, QUEUE_MOVES, type QueueMove } from './order.ts';
import type { BulkAction, BulkRequest, BulkResponse, BulkResult } from '@cascade/shapes';

export type { BulkAction, BulkRequest, BulkResult };
export const BULK_ACTIONS = ['pause', 'resume', 'remove', 'recheck', 'setCategory', 'addTags', 'removeTags', 'queue', 'forceStart', 'setLimits'] as const satisfies readonly BulkAction[];
/** A compile-time check that every action of the shape is in the list. */
type Listed<T extends true> = T;
type _EveryAction = Listed<BulkAction extends (typeof BULK_ACTIONS)[number] ? true : false>;

const KEYS = ['action', 'infoHashes', 'category', 'tags', 'deleteData', 'move', 'downloadLimit', 'uploadLimit', 'forceStart'];
/** More than any library this node is meant for; a bigger list is a mistake or an attack. */
export const MAX_BULK = 100_000;
const HASH = /^[0-9a-fA-F]{40}$/;

/** Checks a bulk request's shape and values; a InvalidInput names the first bad field. */
export function parseBulk(body: unknown): BulkRequest {
  const o = objectOf(body, 'the bulk request', KEYS);
  if (!(BULK_ACTIONS as readonly unknown[]).includes(o.action)) fail('action', `must be one of ${BULK_ACTIONS.join(', ')}`);
  const req: BulkRequest = { action: o.action as BulkAction, infoHashes: hashList(o.infoHashes) };
  switch (req.action) {
    case 'remove':
      if (o.deleteData !== undefined) req.deleteData = bool('deleteData', o.deleteData);
      break;
    case 'setCategory':
      if (!('category' in o)) fail('category', 'is missing (a category name, or null for none)');
      req.category = o.category === null || o.category === '' ? null : categoryName('category', o.category);
      break;
    case 'addTags':
    case 'removeTags':
      req.tags = tagList('tags', o.tags);
      if (req.tags.length === 0) fail('tags', 'must name at least one tag');
      break;
    case 'queue':
      if (!isQueueMove(o.move)) fail('move', `must be one of ${QUEUE_MOVES.join(', ')}`);
      req.move = o.move;
      break;
    case 'forceStart':
      req.forceStart = o.forceStart === undefined ? true : bool('forceStart', o.forceStart);
      break;
    case 'setLimits':
      if (o.downloadLimit === undefined && o.uploadLimit === undefined) fail('downloadLimit', 'or "uploadLimit" must be given');
      if (o.downloadLimit !== undefined) req.downloadLimit = rate('downloadLimit', o.downloadLimit);
      if (o.uploadLimit !== undefined) req.uploadLimit = rate('uploadLimit', o.uploadLimit);
      break;
  }
  return req;
}

function hashList(v: unknown): string[] | 'all' {
  if (v === 'all') return 'all';
  if (!Array.isArray(v)) fail('infoHashes', 'must be a list of infohashes or "all"');
  if (v.length > MAX_BULK) fail('infoHashes', `may hold at most ${MAX_BULK} infohashes (got ${v.length})`);
  const bad = v.findIndex((h) => typeof h !== 'string' || !HASH.test(h));
  if (bad >= 0) fail(`infoHashes[${bad}]`, 'must be a 40-hex infohash');
  return [...new Set((v as string[]).map((h) => h.toLowerCase()))];
}

type RateLimited = TorrentHandle & { setRateLimits?(l: { download?: number; upload?: number }): void };

/** Runs a bulk request; one result per torrent named (all torrents for "all"), in the order given. */
export async function runBulk(node: BulkNode, body: unknown): Promise<BulkResponse> {
  const req = parseBulk(body);
  if (req.action === 'setCategory' && req.category) node.model.categories.require(req.category);
  const known = new Set(node.model.queueOrder());
  for (const t of node.session.list()) known.add(t.infoHashHex);
  const named = req.infoHashes === 'all' ? [...known] : req.infoHashes;
  const targets = named.filter((ih) => known.has(ih));
  const failed = new Map<string, string>();
  for (const ih of named) if (!known.has(ih)) failed.set(ih, `no torrent with infohash ${ih}`);
  const extra = new Map<string, Partial<BulkResult>>();
  // Per-torrent steps: a failure is that torrent's result, not the request's.
  const each = (fn: (ih: string) => void) => () => {
    for (const ih of targets) {
      try {
        fn(ih);
      } catch (err) {
        failed.set(ih, errorMessage(err));
      }
    }
  };
  const { queue, model } = node;

  switch (req.action) {
    case 'pause':
      await queue.stop(targets);
      break;
    case 'resume':
      await queue.start(targets);
      break;
    case 'forceStart':
      await queue.setForceStart(targets, req.forceStart!);
      break;
    case 'queue':
      for (const [ih, pos] of await queue.move(targets, req.move!)) extra.set(ih, { queuePosition: pos });
      break;
    case 'remove':
      for (const [ih, err] of await node.removeMany(targets, req.deleteData ?? false)) if (err) failed.set(ih, errorMessage(err));
      break;
    case 'recheck':
      // Their statuses go into one batch of the records (TorrentRecords.setStatus): one transaction.
      each((ih) => node.recheck(ih))();
      break;
    case 'setCategory':
      await model.options.setEach(targets.map((ih) => [ih, { category: req.category ?? null }]));
      break;
    case 'addTags':
    case 'removeTags':
      await model.changeTagsOf(targets, req.tags, req.action === 'addTags' ? 'add' : 'remove', (ih, err) => failed.set(ih, errorMessage(err)));
      break;
    case 'setLimits': {
      const limits = {
        ...(req.downloadLimit !== undefined ? { downloadLimit: req.downloadLimit } : {}),
        ...(req.uploadLimit !== undefined ? { uploadLimit: req.uploadLimit } : {}),
      };
      await model.options.setEach(targets.map((ih) => [ih, limits]));
      for (const ih of targets) {
        const t = node.session.get(ih) as RateLimited | undefined;
        if (t && typeof t.setRateLimits === 'function' && !failed.has(ih)) {
          t.setRateLimits({
            ...(req.downloadLimit !== undefined ? { download: req.downloadLimit } : {}),
            ...(req.uploadLimit !== undefined ? { upload: req.uploadLimit } : {}),
          });
        }
      }
      break;
    }
  }
  return {
    results: named.map((ih) => {
      const error = failed.get(ih);
      return { infoHash: ih, ok: error === undefined, ...(error !== undefined ? { error } : {}), ...extra.get(ih) };
    }),
  };
}

/** The control RPC `queue.move` and the route share this: one torrent, checked. */
export async function moveOne(node: Pick<BulkNode, 'queue'>, infoHash: string, move: unknown): Promise<{ infoHash: string; queuePosition: number }> {
  if (!isQueueMove(move)) throw new InvalidInput(`"move" must be one of ${QUEUE_MOVES.join(', ')}`);
  const pos = (await node.queue.move([infoHash], move)).get(infoHash) ?? null;
  if (pos === null) throw new NodeError('failed', `torrent ${infoHash} is complete: only torrents still downloading have a place in the queue`);
  return { infoHash, queuePosition: pos };
}
