// GET /webseed/<infohash>/<name>[/<path>] — a torrent's files by infohash and path, as BEP 19 web
// seeds ask for them (url-list `<base>/webseed/<infohash>/`: a client appends the torrent's name,
// and each file's path for a multi-file torrent), and as a CDN in front of the node caches them
// (issue 61 item 5, docs/storage/cdn.md). Public: these are the bytes the node seeds to anyone.
//
// The bytes under an infohash never change (the info dict's piece hashes fix them), so each file is
// cacheable by any shared cache for a year: a strong ETag (infohash and file index), `public,
// max-age=31536000, immutable`, byte ranges (206, 416), If-None-Match (304) and If-Range. Nothing is
// negotiated, so there is no Vary. A private share's files are its ciphertext (what the swarm
// carries): served as they are; one this node keeps as plaintext only is not (no ciphertext on disk).
// Not served: BEP 27 private torrents (their tracker's swarm only), torrents looked up through onion
// circuits (private discovery), and files not complete on this node (404: a web seed must never
// give bytes it has not verified). A torrent kept in an S3 bucket is served from the bucket, by
// ranged reads through the storage's cache (docs/storage/s3.md).
import { createReadStream, statSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { parseRange } from '../app/range.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A torrent file the node may serve to anyone: on disk (`path`), or in a bucket (`read`). */
interface Served {
  path?: string;
  read?: (start: number, end: number) => AsyncIterable<Uint8Array> | undefined;
  length: number;
  etag: string;
}

function servedFile(ctx: ApiContext, infoHash: string, rest: string): Served | undefined {
  if (!/^[0-9a-fA-F]{40}$/.test(infoHash)) return undefined;
  const ih = infoHash.toLowerCase();
  const t = ctx.node.session.get(ih);
  const m = t?.metainfo;
  if (!t || !m || m.private) return undefined;
  const rec = ctx.node.db.getTorrent(ih);
  if (rec?.privateDiscovery || (t as { privateDiscovery?: boolean }).privateDiscovery === true) return undefined;
  if (ctx.node.privateShares.isShare(ih) && ctx.node.privateShares.reader(ih)?.plainStored) return undefined;
  const parts = rest.split('/');
  if (parts[0] !== m.name) return undefined;
  const wanted = parts.slice(1).join('/');
  const index = m.multiFile ? m.files.findIndex((f) => !f.pad && f.path.join('/') === wanted) : wanted === '' ? 0 : -1;
  const f = m.files[index];
  if (!f) return undefined;
  const progress = (t as { fileProgress?: () => number[] }).fileProgress?.();
  if (!(progress ? (progress[index] ?? 0) >= 1 : t.stats().progress >= 1)) return undefined;
  const etag = `"${ih}.${index}"`;
  // Kept in a bucket (issue 61): read through the storage's ranged GETs and cache, same headers.
  const storage = ctx.node.storage;
  if (storage?.where?.(ih) && storage.readFile) return { read: (a, b) => storage.readFile?.(ih, index, a, b), length: f.length, etag };
  const savePath = rec?.savePath ?? ctx.downloadDir;
  const path = m.multiFile ? join(savePath, m.name, ...f.path) : join(savePath, m.name);
  // Not on this disk (data kept elsewhere, moved or deleted under the node): nothing to serve.
  if ((statSync(path, { throwIfNoEntry: false })?.size ?? -1) < f.length) return undefined;
  return { path, length: f.length, etag };
}

/** If-None-Match: `*` or a list of entity tags, weak ones compared weakly (RFC 9110 §13.1.2). */
export function noneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text.trim() === '*') return true;
  return text.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

function serve(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
  const { infoHash, '*': rest } = req.params as { infoHash: string; '*': string };
  const file = servedFile(ctx, infoHash, rest ?? '');
  if (!file) return reply.code(404).header('cache-control', 'no-store').send({ error: 'Not Found', message: 'no such file complete on this node to serve' });
  reply
    .header('etag', file.etag)
    .header('cache-control', IMMUTABLE)
    .header('accept-ranges', 'bytes')
    // Torrent content is untrusted: a download, never sniffed or run in the node's origin.
    .header('content-type', 'application/octet-stream')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "sandbox; default-src 'none'")
    // Web seeds in browsers (WebTorrent) read it from other origins; it holds nothing personal.
    .header('access-control-allow-origin', '*')
    .header('cross-origin-resource-policy', 'cross-origin');
  if (noneMatch(req.headers['if-none-match'], file.etag)) return reply.code(304).send();
  // If-Range with another validator: the whole file, as the cached part is stale.
  const ifRange = req.headers['if-range'];
  const range = ifRange !== undefined && ifRange !== file.etag ? ({ kind: 'full' } as const) : parseRange(req.headers.range, file.length);
  if (range.kind === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${file.length}`).send();
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : file.length - 1;
  if (range.kind === 'partial') reply.code(206).header('content-range', `bytes ${start}-${end}/${file.length}`);
  reply.header('content-length', String(file.length === 0 ? 0 : end - start + 1));
  // HEAD: headers only, written as they are (Fastify would answer an empty body with length 0, and
  // read a stream sent to it to its end).
  if (req.method === 'HEAD') {
    reply.hijack();
    reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
    reply.raw.end();
    return reply;
  }
  if (file.length === 0) return reply.send();
  if (file.path) return reply.send(createReadStream(file.path, { start, end }));
  const chunks = file.read?.(start, end);
  if (!chunks) {
    for (const h of ['etag', 'content-length', 'content-range', 'accept-ranges']) reply.removeHeader(h);
    return reply.code(404).header('cache-control', 'no-store').send({ error: 'Not Found', message: 'no such file complete on this node to serve' });
  }
  return sendFromStore(reply, chunks);
}

/** The first chunk is read before the status goes out, so a store that refuses (the object gone,
 *  credentials revoked, the endpoint down) is a 502 in words, not a 200 cut short. A failure later
 *  cuts the body short of its length: no cache keeps a response that ends early. */
async function sendFromStore(reply: FastifyReply, chunks: AsyncIterable<Uint8Array>): Promise<FastifyReply> {
  const it = chunks[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    first = await it.next();
  } catch (err) {
    for (const h of ['etag', 'content-length', 'content-range', 'accept-ranges']) reply.removeHeader(h);
    return reply.code(502).header('cache-control', 'no-store').send({ error: 'Bad Gateway', message: `the file's store did not give it: ${(err as Error).message}` });
  }
  async function* all(): AsyncGenerator<Uint8Array> {
    if (!first.done) yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return reply.send(Readable.from(all(), { objectMode: false }));
}

export function webseedRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Fastify answers HEAD from the GET route too (headers as for GET, no body).
  app.get('/webseed/:infoHash/*', { config: { access: 'public' }, schema: { hide: true } }, (req, reply) => serve(ctx, req, reply));
}
