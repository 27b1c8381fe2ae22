// GET /api/torrents/:infoHash/files/:index — one file of a torrent, with HTTP Range, streamed from
// disk while the torrent downloads (missing pieces are waited for), so a video plays right away.

import { join, extname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import type { TorrentHandle } from '@cascade/node/features';
import { parseRange } from '../app/range.ts';
import { FileRangeStream } from '@cascade/node/features';
import { havePiece } from '@cascade/node/features';
import { conflict, errorBody, HttpError, notFound } from '../app/http-errors.ts';
import { findTorrent, loadedTorrent } from './lookup.ts';
import { proxyStream, streamsFromHolder } from './stream-proxy.ts';
import { contentDisposition } from './torrents.ts';
import { fileParams, streamQuery, errors } from '../schemas/api.ts';

// Types a browser can play or show. Anything else (HTML and SVG above all: they could run script in
// the app's origin) goes out as a download-only octet stream.
const TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.mov': 'video/quicktime',
  '.ogv': 'video/ogg',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.flac': 'audio/flac',
  '.wav': 'audio/wav',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.srt': 'text/plain; charset=utf-8',
  '.vtt': 'text/vtt; charset=utf-8',
  '.json': 'application/json',
};

export function contentTypeOf(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Audio and video: what a <video>/<audio> of the app, or the browser's own player in a tab of its
 *  own, plays. */
export function isPlayable(type: string): boolean {
  return type.startsWith('audio/') || type.startsWith('video/');
}

/**
 * Every file is untrusted, so none may run script or load anything. Everything but audio and video
 * is also sandboxed (an opaque origin: a PDF, an image or text opened in a tab cannot reach the
 * node). Audio and video are not: the browser's player in a tab of its own fetches the file again
 * with Range, and from a sandboxed (opaque, "cross-site") document that request carries no session
 * cookie and is refused — "Open" played nothing. A media type under nosniff never becomes a
 * document that runs script, so dropping the sandbox for them gives nothing away.
 */
export function contentSecurityPolicy(type: string): string {
  const base = "default-src 'none'; media-src 'self'; img-src 'self'";
  return isPlayable(type) ? base : `sandbox; ${base}`;
}

/**
 * Streaming a deselected file would wait forever for pieces nobody fetches, yet a GET must change
 * nothing: the engine fetches the response's pieces for as long as it is being sent, and the
 * stored selection stays as the user left it.
 */
function claimPieces(t: TorrentHandle, fileOffset: number, start: number, end: number, pieceLength: number): () => void {
  return t.fetchPieces(Math.floor((fileOffset + start) / pieceLength), Math.floor((fileOffset + end) / pieceLength));
}

export function streamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { infoHash: string; index: number }; Querystring: { download: boolean } }>(
    '/api/torrents/:infoHash/files/:index',
    {
      // Not a viewer's: streaming makes the node fetch the pieces it waits for.
      config: { access: 'member' },
      schema: {
        summary: 'Stream one file (HTTP Range supported; waits for pieces still downloading)',
        tags: ['torrents'],
        params: fileParams,
        querystring: streamQuery,
        produces: ['application/octet-stream'],
        response: {
          200: { type: 'string', format: 'binary', description: 'the whole file' },
          206: { type: 'string', format: 'binary', description: 'the requested byte range' },
          ...errors(400, 403, 404, 409, 416, 503),
        },
      },
      handler: async (req, reply) => {
        // A cluster's member without a copy: from a live holder (a local copy, when there is one, first).
        const ih = findTorrent(ctx, req.params.infoHash).infoHash;
        if (streamsFromHolder(ctx, ih)) return proxyStream(ctx, req, reply, ih);
        const t = loadedTorrent(ctx, req.params.infoHash);
        const meta = t.metainfo;
        if (!meta) throw conflict('the torrent’s metadata is not known yet, so its files are not either');
        const index = req.params.index;
        // A private share's files are the ones inside it, decrypted; none for a node without its key.
        const shared = ctx.node.privateShares.view(t.infoHashHex);
        const reader = shared && ctx.node.privateShares.reader(t.infoHashHex);
        if (shared && !reader) throw new HttpError(403, shared.error ?? 'this share is encrypted and this node cannot read it');
        // Loaded already: the node read the share with it (@cascade/private-node).
        const plaintext = reader && (await import('@cascade/private-node'));
        const files = reader ? reader.manifest.files : meta.files;
        const file = files[index];
        if (!file) throw notFound(`no file ${index}: the torrent has ${files.length} file(s)`);
        const savePath = ctx.node.db.getTorrent(t.infoHashHex)?.savePath ?? ctx.downloadDir;
        const path = meta.multiFile ? join(savePath, meta.name, ...file.path) : join(savePath, meta.name);
        const size = file.length;
        const name = file.path[file.path.length - 1]!;

        const range = parseRange(req.headers.range, size);
        if (range.kind === 'unsatisfiable') {
          return reply
            .code(416)
            .header('content-range', `bytes */${size}`)
            .send(errorBody(416, `range ${req.headers.range} is beyond the end of the file (${size} bytes)`));
        }
        const type = contentTypeOf(name);
        const download = req.query.download || type === 'application/octet-stream';
        reply
          .header('accept-ranges', 'bytes')
          .header('content-type', type)
          .header('content-disposition', contentDisposition(download ? 'attachment' : 'inline', name))
          // Torrent content is untrusted: never sniffed into something executable, never scripted.
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', contentSecurityPolicy(type))
          // Only the app's own pages embed it (another site's <video> gets nothing).
          .header('cross-origin-resource-policy', 'same-origin')
          // Decrypted plaintext and files behind sign-in: never kept by a shared cache.
          .header('cache-control', 'private, no-store');
        const start = range.kind === 'partial' ? range.start : 0;
        const end = range.kind === 'partial' ? range.end : size - 1;
        if (range.kind === 'partial') reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
        reply.header('content-length', String(size === 0 ? 0 : end - start + 1));
        // Headers go out now, not with the first byte (Fastify's way for streams): a player learns
        // the size at once and shows "buffering" while the first pieces download.
        reply.hijack();
        reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
        if (req.method === 'HEAD' || size === 0) {
          reply.raw.end();
          return reply;
        }
        reply.raw.flushHeaders();
        // A film streams for hours: cut short once its caller may no longer stream (token rotated,
        // member removed or made a viewer), not when it ends.
        reply.raw.once('close', ctx.auth.holds.hold(req.raw, 'member', () => reply.raw.destroy()));
        if (reader) {
          const plain = (reader.plainStored ? plaintext!.storedPlainRange : plaintext!.plainRange)(t, reader, index, start, end, ctx.streamWaitMs);
          reply.raw.once('close', t.fetchPieces(plain.firstPiece, plain.lastPiece));
          (plain.decrypt ? pipeline(plain.source, plain.decrypt, reply.raw) : pipeline(plain.source, reply.raw)).catch(() => {});
          return reply;
        }
        const offset = (file as (typeof meta.files)[number]).offset;
        const release = claimPieces(t, offset, start, end, meta.pieceLength);
        reply.raw.once('close', release);
        const stream = new FileRangeStream({
          torrent: t,
          meta,
          fileIndex: index,
          path,
          start,
          end,
          havePiece: (i) => havePiece(t, i),
          waitMs: ctx.streamWaitMs,
        });
        // On a piece timeout or a client that left, pipeline destroys both ends: the response is
        // cut short, which is all HTTP allows once the status line is out.
        pipeline(stream, reply.raw).catch(() => {});
        return reply;
      },
    },
  );
}
