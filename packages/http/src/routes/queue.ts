// Queue and bulk routes: move a torrent in the download queue, and act on many torrents in one
// request. Bodies are checked by the queue code itself (src/queue/bulk.ts), which names the bad
// field; the schemas here are for the docs and only keep the body a JSON object.

import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { keepRawBody, rawBodyOf } from '../app/http-errors.ts';
import { objectOf } from '@cascade/node/features';
import { moveOne, runBulk, BULK_ACTIONS, MAX_BULK } from '@cascade/node/features';
import { QUEUE_MOVES } from '@cascade/node/features';
import { errors, infoHashParams } from '../schemas/api.ts';
import { findTorrent } from './lookup.ts';

const queueBody = {
  type: 'object',
  properties: { move: { type: 'string', enum: [...QUEUE_MOVES], description: 'where to: one step up or down, or to the top or bottom' } },
} as const;

const bulkBody = {
  type: 'object',
  properties: {
    action: { type: 'string', enum: [...BULK_ACTIONS] },
    infoHashes: {
      description: `the torrents (40-hex infohashes, at most ${MAX_BULK}), or "all"`,
      // The handler reads the body as sent (Fastify's coercion would make "all" a list).
      anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string', enum: ['all'] }],
    },
    category: { type: ['string', 'null'], description: 'setCategory: a category name, or null for none' },
    tags: { type: 'array', items: { type: 'string' }, description: 'addTags, removeTags' },
    deleteData: { type: 'boolean', description: 'remove: delete the torrents’ own files too' },
    move: { type: 'string', enum: [...QUEUE_MOVES], description: 'queue' },
    downloadLimit: { type: 'integer', description: 'setLimits: bytes/s, 0 = none' },
    uploadLimit: { type: 'integer', description: 'setLimits: bytes/s, 0 = none' },
    forceStart: { type: 'boolean', description: 'forceStart: on (default) or off' },
  },
} as const;

const bulkResult = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          infoHash: { type: 'string' },
          ok: { type: 'boolean' },
          error: { type: 'string' },
          queuePosition: { type: ['integer', 'null'] },
        },
      },
    },
  },
} as const;

export function queueRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { node } = ctx;

  app.post<{ Params: { infoHash: string } }>('/api/torrents/:infoHash/queue', {
    preValidation: keepRawBody,
    schema: {
      summary: 'Move a torrent in the download queue. Answers its new queuePosition (1 = next to run)',
      tags: ['torrents'],
      params: infoHashParams,
      body: queueBody,
      response: { 200: { type: 'object', properties: { queuePosition: { type: 'integer' } } }, ...errors(400, 404, 409) },
    },
    handler: async (req) => {
      const { infoHash } = findTorrent(ctx, req.params.infoHash);
      const body = objectOf(rawBodyOf(req), 'the request', ['move']);
      const { queuePosition } = await moveOne(node, infoHash, body.move);
      ctx.changed();
      return { queuePosition };
    },
  });

  app.post('/api/torrents/bulk', {
    preValidation: keepRawBody,
    // Thousands of infohashes at 43 bytes each.
    bodyLimit: 8 * 1024 * 1024,
    schema: {
      summary: 'One action on many torrents (or "all"): pause, resume, remove, recheck, setCategory, addTags, removeTags, queue, forceStart, setLimits. One result per torrent',
      tags: ['torrents'],
      body: bulkBody,
      response: { 200: bulkResult, ...errors(400, 409, 413) },
    },
    handler: async (req) => {
      const out = await runBulk(node, rawBodyOf(req));
      ctx.changed();
      return out;
    },
  });
}
