// POST /api/assistant (a question → findings over this node, help entries and actions; streamed as
// Server-Sent Events when an LLM answers and the caller asks for text/event-stream), GET
// /api/assistant (is an LLM configured, how many entries: the UI's privacy line), and
// POST /api/torrents/:infoHash/announce (re-announce now: the assistant's "Re-announce" action).

import type { FastifyInstance, FastifyReply } from 'fastify';
import { AssistantInputError, UnknownTorrentError, type Assistant, type AskRequest } from '@cascade/assistant';
import type { ApiContext } from '../app/context.ts';
import { badRequest, notFound } from '../app/http-errors.ts';
import { errors, infoHashParams } from '../schemas/api.ts';
import { loadedTorrent } from './lookup.ts';
import { announceNow } from '@cascade/node/features';
import { answerSchema, askBody, assistantInfoSchema, announceResultSchema } from '../schemas/assistant.ts';

/** Core's input errors as the API's 400/404. */
function asHttpError(err: unknown): unknown {
  if (err instanceof AssistantInputError) return badRequest(err.message);
  if (err instanceof UnknownTorrentError) return notFound(err.message);
  return err;
}

function sse(reply: FastifyReply, event: string, data: unknown): void {
  reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function assistantRoutes(app: FastifyInstance, ctx: ApiContext, assistant: Assistant): void {
  app.get('/api/assistant', {
    schema: {
      summary: 'The assistant: whether a language model is configured (questions then leave this machine) and how many help entries it answers from',
      tags: ['assistant'],
      response: { 200: assistantInfoSchema },
    },
    handler: async () => assistant.info(),
  });

  app.post<{ Body: AskRequest }>('/api/assistant', {
    schema: {
      summary: 'Ask the assistant: checks this node (and the torrent, when infoHash is given) and answers from the help entries, citing them, with actions',
      description:
        'With `Accept: text/event-stream` and a language model configured, the answer streams as Server-Sent Events: ' +
        '`event: token` (data {"text"}) as the model writes, then one `event: answer` (data: the AssistantAnswer). ' +
        'Without a model the built-in answer comes as JSON (or as one `answer` event).',
      tags: ['assistant'],
      body: askBody,
      response: { 200: answerSchema, ...errors(400, 404) },
    },
    handler: async (req, reply) => {
      const ask: AskRequest = { question: req.body.question };
      if (req.body.infoHash !== undefined) ask.infoHash = req.body.infoHash.toLowerCase();
      if (req.body.conversation !== undefined) ask.conversation = req.body.conversation;
      const wantsStream = /\btext\/event-stream\b/.test(req.headers.accept ?? '');
      if (!wantsStream || assistant.info().llm === null) {
        try {
          return await assistant.ask(ask);
        } catch (err) {
          throw asHttpError(err);
        }
      }
      // Streaming: the first event decides the status, so bad input is still a plain 400/404.
      const abort = new AbortController();
      // The caller went away before the end (the request's own 'close' comes once its body is read).
      reply.raw.on('close', () => {
        if (!reply.raw.writableEnded) abort.abort();
      });
      const events = assistant.askStream(ask, abort.signal)[Symbol.asyncIterator]();
      let first: IteratorResult<unknown>;
      try {
        first = await events.next();
      } catch (err) {
        throw asHttpError(err);
      }
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      try {
        for (let r = first; !r.done; r = await events.next()) {
          const ev = r.value as { type: 'token'; text: string } | { type: 'answer'; answer: unknown };
          if (ev.type === 'token') sse(reply, 'token', { text: ev.text });
          else sse(reply, 'answer', ev.answer);
        }
      } catch (err) {
        if (!abort.signal.aborted) sse(reply, 'error', { message: err instanceof Error ? err.message : String(err) });
      }
      reply.raw.end();
    },
  });

  app.post<{ Params: { infoHash: string } }>('/api/torrents/:infoHash/announce', {
    schema: {
      summary: 'Announce now to the torrent’s trackers (and the DHT when it is on and the torrent is not private); answers the trackers’ replies after a few seconds',
      tags: ['torrents'],
      params: infoHashParams,
      response: { 200: announceResultSchema, ...errors(400, 404, 409) },
    },
    handler: async (req) => {
      const t = loadedTorrent(ctx, req.params.infoHash);
      const out = await announceNow(ctx.node, [t]);
      ctx.changed();
      return out.torrents[0]!;
    },
  });
}
