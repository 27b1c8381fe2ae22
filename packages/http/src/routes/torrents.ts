// Torrent routes other than adding and streaming: list, detail, pause/resume, recheck, remove, file
// selection and the .torrent download.

import type { FastifyInstance } from 'fastify';
import { encodeTorrent } from '@cascade/engine';
import type { ApiContext } from '../app/context.ts';
import { summaryCache } from '@cascade/node/features';
import { fileViews } from '@cascade/node/features';
import type { PieceMap, TorrentDetail } from '@cascade/shapes';
import { badRequest, conflict, keepRawBody, rawBodyOf } from '../app/http-errors.ts';
import { findTorrent, loadedTorrent, torrentDetailOf } from './lookup.ts';
import { pieceStates, selectFiles } from '@cascade/node/features';
import { NodeError, nodeTorrentHolders, type ListQuery } from '@cascade/node';
import { listQuery, torrentPatchBody } from '../schemas/model.ts';
import {
  infoHashParams,
  removeQuery,
  removeResultSchema,
  selectBody,
  selectResultSchema,
  stateResultSchema,
  errors,
} from '../schemas/api.ts';

interface HashParams {
  infoHash: string;
}

export function torrentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { node } = ctx;

  const detailOf = (infoHash: string): TorrentDetail => torrentDetailOf(ctx, infoHash);

  app.get<{ Querystring: ListQuery }>('/api/torrents', {
    // The schema below documents the answer; V8's own JSON.stringify writes it. At 10,000 torrents
    // the body is 6 MB, and Fastify's generated serializer builds it from some hundred thousand
    // string concatenations: ~20 MB of garbage per request, which a node polled by a script held as
    // hundreds of MB of RSS until V8 got round to a full GC. JSON.stringify leaves only the body.
    // The rows are the same objects the live feed sends (socket.io stringifies them too).
    serializerCompiler: () => (data) => JSON.stringify(data),
    schema: {
      summary: 'List torrents, filtered and sorted as asked; total counts every match',
      tags: ['torrents'],
      querystring: listQuery,
      response: {
        200: {
          type: 'object',
          properties: {
            torrents: { type: 'array', items: { $ref: 'TorrentSummary#' } },
            total: { type: 'integer', description: 'entries matching the filters (before offset/limit)' },
            shareWarning: { type: ['string', 'null'], description: 'why torrents this node makes cannot lead others here; null when fine' },
          },
        },
        ...errors(400),
      },
    },
    handler: async (req) => {
      // Rows come from the summary cache: only torrents that changed since the last look are built.
      const cache = summaryCache(node);
      cache.refresh();
      return { ...cache.query(req.query), shareWarning: node.model.shareWarning(ctx.announceUrls()) };
    },
  });

  app.get<{ Params: HashParams }>('/api/torrents/:infoHash', {
    schema: {
      summary: 'Torrent detail: progress, speeds, ETA, peers by transport, trackers, files',
      tags: ['torrents'],
      params: infoHashParams,
      response: { 200: { $ref: 'TorrentDetail#' }, ...errors(400, 404) },
    },
    handler: async (req): Promise<TorrentDetail> => {
      const { infoHash } = findTorrent(ctx, req.params.infoHash);
      // Its holders are read from the state (a cluster's members each keep their own row); while
      // the database is away the detail is still served from the views, without them.
      const detail = detailOf(infoHash);
      try {
        return { ...detail, holders: await nodeTorrentHolders(node, infoHash) };
      } catch (err) {
        if (err instanceof NodeError && err.kind === 'unavailable') return detail;
        throw err;
      }
    },
  });

  app.get<{ Params: HashParams }>('/api/torrents/:infoHash/pieces', {
    schema: {
      summary: 'The piece map: which pieces this node has, and how many connected peers hold each',
      tags: ['torrents'],
      params: infoHashParams,
      response: {
        200: {
          type: 'object',
          properties: {
            pieceCount: { type: 'integer' },
            pieceLength: { type: 'integer' },
            states: { type: 'string', description: "one character a piece: '0' missing, '1' being downloaded, '2' verified" },
            availability: { type: 'array', items: { type: 'integer' }, description: 'connected peers holding each piece' },
            distributedCopies: { type: ['number', 'null'], description: 'as in the detail' },
          },
        },
        ...errors(400, 404, 409),
      },
    },
    handler: async (req): Promise<PieceMap> => {
      const t = loadedTorrent(ctx, req.params.infoHash);
      const p = pieceStates(t);
      return {
        pieceCount: p.states.length,
        pieceLength: t.metainfo?.pieceLength ?? 0,
        // One character a piece ('0' is code 48) is a fraction of a JSON array of numbers.
        states: Buffer.from(p.states.map((x) => 48 + x)).toString('latin1'),
        availability: Array.from(p.availability),
        distributedCopies: t.distributedCopies?.() ?? null,
      };
    },
  });

  app.patch<{ Params: HashParams; Body: Record<string, unknown> }>('/api/torrents/:infoHash', {
    preValidation: keepRawBody,
    schema: {
      summary: 'Change a torrent’s limits, category, tags, seeding goals, force start, or move its data (savePath). Answers the detail',
      tags: ['torrents'],
      params: infoHashParams,
      body: torrentPatchBody,
      response: { 200: { $ref: 'TorrentDetail#' }, ...errors(400, 404, 409) },
    },
    handler: async (req): Promise<TorrentDetail> => {
      const { infoHash } = findTorrent(ctx, req.params.infoHash);
      const { privateDiscovery, ...rest } = (rawBodyOf(req) ?? {}) as Record<string, unknown>;
      if (privateDiscovery !== undefined) {
        if (typeof privateDiscovery !== 'boolean') throw badRequest('body/privateDiscovery must be true or false');
        await node.setPrivateDiscovery(infoHash, privateDiscovery);
      }
      if (privateDiscovery === undefined || Object.keys(rest).length > 0) await node.model.setTorrent(infoHash, rest);
      ctx.changed();
      return detailOf(infoHash);
    },
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: HashParams }>(`/api/torrents/:infoHash/${action}`, {
      schema: {
        summary: action === 'pause' ? 'Pause a torrent' : 'Resume a paused torrent',
        tags: ['torrents'],
        params: infoHashParams,
        response: { 200: stateResultSchema, ...errors(400, 404) },
      },
      handler: async (req) => {
        const { infoHash } = findTorrent(ctx, req.params.infoHash);
        if (action === 'pause') await node.pause(infoHash);
        else await node.resume(infoHash);
        ctx.changed();
        return { infoHash, state: node.stateOf(infoHash) };
      },
    });
  }

  app.post<{ Params: HashParams }>('/api/torrents/:infoHash/recheck', {
    schema: {
      summary: 'Hash the data on disk again, trusting no resume data (state "checking" meanwhile); what fails is downloaded again. Every file it had data in gone, it stops with "No data found" as at a start (resume to fetch it all again). A torrent never checked (added paused) is checked now',
      tags: ['torrents'],
      params: infoHashParams,
      response: { 200: stateResultSchema, ...errors(400, 404, 409) },
    },
    handler: async (req) => {
      const t = loadedTorrent(ctx, req.params.infoHash);
      const state = node.recheck(t.infoHashHex);
      ctx.changed();
      return { infoHash: t.infoHashHex, state };
    },
  });

  app.delete<{ Params: HashParams; Querystring: { deleteData: boolean } }>('/api/torrents/:infoHash', {
    schema: {
      summary: 'Remove a torrent (and its downloaded data with ?deleteData=true)',
      tags: ['torrents'],
      params: infoHashParams,
      querystring: removeQuery,
      response: { 200: removeResultSchema, ...errors(400, 404) },
    },
    handler: async (req) => {
      const { infoHash } = findTorrent(ctx, req.params.infoHash);
      // Only this torrent's own files go (node.remove): never its folder wholesale, nor another's file.
      await node.remove(infoHash, req.query.deleteData);
      ctx.changed();
      return { infoHash, removed: true, deletedData: req.query.deleteData };
    },
  });

  app.put<{ Params: HashParams; Body: { selected: number[] } }>('/api/torrents/:infoHash/files', {
    schema: {
      summary: 'Choose which files to download',
      tags: ['torrents'],
      params: infoHashParams,
      body: selectBody,
      response: { 200: selectResultSchema, ...errors(400, 404, 409) },
    },
    handler: async (req) => {
      const t = loadedTorrent(ctx, req.params.infoHash);
      // Its files are inside one encrypted stream: a file's bytes cannot be fetched alone.
      if (node.privateShares.isShare(t.infoHashHex)) throw conflict('a private share downloads whole: its files are inside its encrypted data');
      const selected = await selectFiles(node, t, req.body.selected);
      const all = selected.length === t.metainfo!.files.length;
      ctx.changed();
      return { infoHash: t.infoHashHex, selected, files: fileViews(t, all ? null : selected) ?? [] };
    },
  });

  app.get<{ Params: HashParams }>('/api/torrents/:infoHash/torrent', {
    schema: {
      summary: 'Download the .torrent file',
      tags: ['torrents'],
      params: infoHashParams,
      produces: ['application/x-bittorrent'],
      response: { 200: { type: 'string', format: 'binary' }, ...errors(400, 404, 409) },
    },
    handler: async (req, reply) => {
      const f = findTorrent(ctx, req.params.infoHash);
      // The stored bytes as added (the view holds none: read through the Store), else made of the metainfo.
      const stored = f.record ? await ctx.node.db.records.torrentBytes(f.infoHash) : undefined;
      const bytes = stored ?? (f.torrent?.metainfo ? encodeTorrent(f.torrent.metainfo) : undefined);
      if (!bytes) throw conflict('the torrent’s metadata is not known yet, so there is no .torrent file to give');
      const name = f.torrent?.metainfo?.name ?? f.record?.name ?? f.infoHash;
      return reply
        .type('application/x-bittorrent')
        .header('content-disposition', contentDisposition('attachment', `${name}.torrent`))
        .send(Buffer.from(bytes));
    },
  });
}

/** RFC 6266 with an ASCII fallback: torrent names are often not ASCII. */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}
