// Streaming a file this member holds no copy of (issue 42 item 4): a cluster's member lists every
// torrent of the library but runs only those it holds; a stream of another's is proxied from a
// live holder's same route, with the caller's Range, conditional headers and credentials (sessions
// and the API token are the cluster's, so the holder takes them as they are), piped through as it
// comes — never the whole file in memory. No live holder: 503 with a message.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { liveHolderUrls } from '@cascade/node';
import type { ApiContext } from '../app/context.ts';
import { HttpError } from '../app/http-errors.ts';

/** Set on a proxied request: its target answers from its own copy or not at all (no second hop). */
export const PROXIED_HEADER = 'x-cascade-proxied';
/** How long a holder may take to answer with its headers before the next one is tried. */
const HOLDER_ANSWER_MS = 10_000;
/** What the caller sent that the holder needs to answer the same way. */
const FORWARDED = ['range', 'if-range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'authorization', 'cookie', 'accept'];
/** Headers of one connection, not of the response. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'trailer', 'te']);

/** Whether this request is one to proxy: the torrent is in the library, not loaded here, and this
 *  node is a cluster member that does not hold it. */
export function streamsFromHolder(ctx: ApiContext, infoHash: string): boolean {
  return ctx.node.cluster !== undefined && ctx.node.session.get(infoHash) === undefined && ctx.node.db.records.has(infoHash) && !ctx.node.db.records.heldHere(infoHash);
}

export async function proxyStream(ctx: ApiContext, req: FastifyRequest, reply: FastifyReply, infoHash: string): Promise<FastifyReply> {
  const noCopy = `this member holds no copy of torrent ${infoHash}`;
  if (req.headers[PROXIED_HEADER] !== undefined) throw new HttpError(503, `${noCopy} (asked by another member for it)`);
  const urls = await liveHolderUrls(ctx.node.db.store, infoHash, ctx.node.db.memberId);
  if (urls.length === 0) throw unavailable(reply, `${noCopy}, and no live member does: its holders are down; try again once one is back`);
  const headers: Record<string, string> = { [PROXIED_HEADER]: '1' };
  for (const h of FORWARDED) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  // The caller gone: the holder's response is dropped too.
  const gone = new AbortController();
  reply.raw.once('close', () => gone.abort());
  const failures: string[] = [];
  for (const base of urls) {
    const slow = AbortSignal.timeout(HOLDER_ANSWER_MS);
    let res: Response;
    try {
      res = await fetch(new URL(req.url, base), { method: req.method, headers, redirect: 'manual', signal: AbortSignal.any([gone.signal, slow]) });
    } catch (err) {
      if (gone.signal.aborted) return reply.hijack();
      failures.push(`${base}: ${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}`);
      continue;
    }
    const out: OutgoingHttpHeaders = {};
    res.headers.forEach((v, k) => {
      if (!HOP_BY_HOP.has(k)) out[k] = v;
    });
    reply.hijack();
    reply.raw.writeHead(res.status, out);
    if (!res.body || req.method === 'HEAD') {
      reply.raw.end();
      return reply;
    }
    reply.raw.flushHeaders();
    // Cut short (the holder died mid-file, the caller left): the response ends, as a local one would.
    pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), reply.raw).catch(() => reply.raw.destroy());
    return reply;
  }
  throw unavailable(reply, `${noCopy}, and no holder answered (${failures.join('; ')}); try again later`);
}

function unavailable(reply: FastifyReply, message: string): HttpError {
  void reply.header('retry-after', '5');
  return new HttpError(503, message);
}
