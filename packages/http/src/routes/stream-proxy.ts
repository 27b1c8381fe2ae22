// Streaming a file this member holds no copy of (issue 42 item 4): a cluster's member lists every
// torrent of the library but runs only those it holds; a stream of another's is proxied from a
// live holder's same route, with the caller's Range, conditional headers and credentials (sessions
// and the API token are the cluster's, so the holder takes them as they are), piped through as it
// comes — never the whole file in memory. No live holder: 503 with a message. A holder that does
// not answer (cut off: its packets dropped, no refusal) is given HOLDER_ANSWER_MS for its headers,
// then the next is tried; one cut off mid-body is dropped when the connection's TCP keep-alive
// gives up (Node's agent: ~11 s), one that still answers it but sends nothing after HOLDER_IDLE_MS,
// and the caller's response ends there (as a holder that died mid-file), never a hang.

import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { nodeHttp, nodeHttps } from '@cascade/engine/lazy-builtins';
import { isIP } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { HttpError } from '../app/http-errors.ts';

/** Set on a proxied request: its target answers from its own copy or not at all (no second hop). */
export const PROXIED_HEADER = 'x-cascade-proxied';
/** How long a holder may take to answer with its headers before the next one is tried. */
export const HOLDER_ANSWER_MS = 10_000;
/** How long a holder's body may stay silent before the response is ended (a cut mid-file). */
export const HOLDER_IDLE_MS = 20_000;
/** What a member runs: the defaults above, or the environment's CASCADE_HOLDER_ANSWER_MS and
 *  CASCADE_HOLDER_IDLE_MS (positive ms), read once as this module loads: the partition trial
 *  (packages/cli/test/cluster-partition.test.ts) waits on shorter ones. */
const envMs = (name: string, fallback: number) => (Number(process.env[name]) > 0 ? Number(process.env[name]) : fallback);
const answerMs = envMs('CASCADE_HOLDER_ANSWER_MS', HOLDER_ANSWER_MS);
const idleMs = envMs('CASCADE_HOLDER_IDLE_MS', HOLDER_IDLE_MS);
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
  const urls = (await ctx.node.cluster?.liveHolderUrls(infoHash)) ?? [];
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
  const from = ctx.httpHost && isIP(ctx.httpHost) !== 0 && ctx.httpHost !== '0.0.0.0' && ctx.httpHost !== '::' ? ctx.httpHost : undefined;
  for (const base of urls) {
    let res: IncomingMessage;
    try {
      res = await ask(new URL(req.url, base), req.method, headers, from, gone.signal);
    } catch (err) {
      if (gone.signal.aborted) return reply.hijack();
      failures.push(`${base}: ${(err as Error).message}`);
      continue;
    }
    const out: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(res.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
    reply.hijack();
    reply.raw.writeHead(res.statusCode ?? 502, out);
    if (req.method === 'HEAD') {
      res.resume();
      reply.raw.end();
      return reply;
    }
    reply.raw.flushHeaders();
    // Ended here as soon as this member refuses the caller, before the holder hears of the change.
    reply.raw.once('close', ctx.auth.holds.hold(req.raw, 'member', () => reply.raw.destroy()));
    // A holder silent mid-file (cut off): dropped, and the caller's response cut short with it.
    res.socket.setTimeout(idleMs, () => res.destroy(new Error(`the holder at ${base} sent nothing for ${idleMs / 1000} s`)));
    // Cut short (the holder died mid-file, the caller left): the response ends, as a local one would.
    pipeline(res, reply.raw).catch(() => {
      res.destroy();
      reply.raw.destroy();
    });
    return reply;
  }
  throw unavailable(reply, `${noCopy}, and no holder answered (${failures.join('; ')}); try again later`);
}

/** One request to a holder, from `localAddress` when given; resolves at its response's headers,
 *  given up after HOLDER_ANSWER_MS without them (only the wait for headers: a long body may take
 *  as long as it takes, its silences bounded by HOLDER_IDLE_MS). */
function ask(url: URL, method: string, headers: Record<string, string>, localAddress: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? nodeHttps().request : nodeHttp().request;
  return new Promise((resolve, reject) => {
    const r = request(url, { method, headers, signal, ...(localAddress ? { localAddress } : {}) }, (res) => {
      clearTimeout(slow);
      resolve(res);
    });
    const slow = setTimeout(() => r.destroy(new Error(`no answer within ${answerMs / 1000} s`)), answerMs);
    r.on('error', (err) => {
      clearTimeout(slow);
      reject(signal.aborted ? (signal.reason as Error) : err);
    });
    r.end();
  });
}

function unavailable(reply: FastifyReply, message: string): HttpError {
  void reply.header('retry-after', '5');
  return new HttpError(503, message);
}
