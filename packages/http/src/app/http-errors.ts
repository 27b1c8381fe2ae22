// How the HTTP API fails. Every bad request must end as a 4xx with a readable message, never a
// 500: handlers throw HttpError for the cases they know, and the error handler maps the node's
// errors by their kind (NodeError, errors.ts) and the engine's own error types (MetainfoError,
// Fastify's validation and size errors) to 4xx. Only a genuine bug is a 500.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { NodeError, errorMessage, type NodeErrorKind } from '@cascade/node';

export class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.statusCode = statusCode;
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const notFound = (message: string) => new HttpError(404, message);
export const conflict = (message: string) => new HttpError(409, message);

/** The JSON body of every error response (Fastify's own shape, so its built-in errors match). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The node's error kinds as HTTP statuses ('failed': the request was fine, the node's state is not). */
const STATUS_OF_KIND: Record<NodeErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  unusable: 422,
  failed: 409,
  // The database is away: the request was fine and may succeed once it is back.
  unavailable: 503,
};

export function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: REASONS[statusCode] ?? 'Error', message };
}

/** The status an error deserves: its own 4xx, or 400 for input the node or engine rejected. */
export function httpStatusOf(err: unknown): number {
  const code = (err as { statusCode?: unknown }).statusCode;
  if (typeof code === 'number' && code >= 400 && code < 600) return code;
  if (err instanceof NodeError) return STATUS_OF_KIND[err.kind];
  // The engine's parse errors (bad .torrent, bad magnet) are the client's input being wrong.
  if (err instanceof Error && (err.name === 'MetainfoError' || err.name === 'BencodeError')) return 400;
  // The engine refused a torrent whose files another torrent owns.
  if (err instanceof Error && err.name === 'FileConflictError') return 409;
  return 500;
}

/** An error handler that also writes genuine faults to the node's own log (`serve` runs Fastify
 *  without its logger, so a 500's "the node's log has the details" must be true of that log). */
export function errorHandlerWith(log: (name: string, fields: Record<string, unknown>) => void) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const status = httpStatusOf(err);
    if (status >= 500 && !(err instanceof NodeError && err.kind === 'unavailable') && !(err instanceof HttpError)) {
      // The route's pattern, never the URL (it may carry a token or a path).
      log('request failed', { method: req.method, route: req.routeOptions.url ?? 'unmatched', status, error: err.stack ?? errorMessage(err) });
    }
    handleError(err, req, reply);
  };
}

export function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const status = httpStatusOf(err);
  // The database away (503) is no bug: its message says what to do (try again later).
  // A 503 the API throws on purpose (no live holder to stream from) says why too.
  const away = (err instanceof NodeError && err.kind === 'unavailable') || (err instanceof HttpError && status === 503);
  if (away) req.log.warn({ err: errorMessage(err) }, 'request refused: unavailable');
  else if (status >= 500) req.log.error({ err }, 'request failed');
  // Fastify's validation messages name the part ("body/uri must be string"); keep them.
  let message = errorMessage(err);
  // A genuine fault: its message (a file system error names the server's paths) goes to the log
  // only; the client learns the kind of failure.
  if (status >= 500 && !away) {
    const code = (err as { code?: unknown }).code;
    message = `internal error${typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''}; the node's log has the details`;
  }
  if (err.code === 'FST_REQ_FILE_TOO_LARGE' || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    message = `upload too large: ${message}`;
  }
  if (reply.sent || reply.raw.headersSent) {
    // A streamed response already started: all we can do is cut it short.
    reply.raw.destroy();
    return;
  }
  if (away) void reply.header('retry-after', '5');
  void reply.code(status).type('application/json; charset=utf-8').send(errorBody(status, message));
}

/**
 * A preValidation hook that keeps the JSON body as the client sent it (`rawBodyOf`): Fastify's
 * validation coerces types in place (5 → "5", "a" → ["a"]), which is lenient enough for the docs
 * schemas, but the node model checks types strictly and must see what was really sent.
 */
export function keepRawBody(req: { body: unknown }, _reply: unknown, done: (err?: Error) => void): void {
  try {
    RAW.set(req, typeof req.body === 'object' && req.body !== null ? structuredClone(req.body) : req.body);
  } catch {
    // Thousands of nested arrays or objects: the clone runs out of stack. No route takes such a body.
    return done(badRequest('the JSON body nests too deeply'));
  }
  done();
}

const RAW = new WeakMap<object, unknown>();

export function rawBodyOf(req: { body: unknown }): unknown {
  return RAW.has(req) ? RAW.get(req) : req.body;
}
