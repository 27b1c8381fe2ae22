// The plumbing every qBittorrent action shares: its parameters (query and form merged, as the
// WebUI reads `params()`), its errors (qBittorrent answers failures as plain text with the HTTP
// status: 400 "Bad Request", 404 "Not Found", 409 "Conflict"…) and the small parsers its
// controllers use (pipe-separated hashes, "true"/"false" booleans).
import type { CompatOps, TorrentRow } from '../ops.ts';
import type { QbSession } from './session-state.ts';

/** qBittorrent's WebAPI answers with these texts when an error carries no message of its own. */
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** A failure answered as qBittorrent does: the status, and a short text (its status text by default). */
export class QbError extends Error {
  readonly status: number;
  constructor(status: number, message?: string) {
    super(message ?? statusText(status));
    this.status = status;
  }
}

export const badRequest = (message?: string) => new QbError(400, message);
export const notFound = (message?: string) => new QbError(404, message);
export const conflict = (message?: string) => new QbError(409, message);

export interface UploadedFile {
  field: string;
  filename: string;
  data: Uint8Array;
}

/** What an action gets: the node, the caller's session, its parameters and uploaded files. */
export interface ActionContext {
  ops: CompatOps;
  session: QbSession;
  params: Map<string, string>;
  files: UploadedFile[];
  /** The node's address as the caller reached it ("http://host:port"), for links in answers. */
  origin: string;
}

/** An answer already serialized as JSON (a long list whose parts are kept serialized), with its
 *  length in UTF-8 bytes. */
export class JsonText {
  readonly text: string;
  readonly bytes: number;
  constructor(json: { text: string; bytes: number }) {
    this.text = json.text;
    this.bytes = json.bytes;
  }
}

/** JSON (object or array, or JsonText), text (answered as text/plain), or nothing (200 with an empty body). */
export type ActionResult = string | object | undefined;
export type Action = (ctx: ActionContext) => ActionResult | Promise<ActionResult>;

/** An action and the one HTTP method qBittorrent allows for it ("any" = GET or POST). */
export interface ActionSpec {
  method: 'GET' | 'POST' | 'any';
  run: Action;
}

/** Like APIController::requireParams: a missing parameter is a 400. */
export function requireParams(ctx: ActionContext, ...names: string[]): void {
  const missing = names.filter((n) => !ctx.params.has(n));
  if (missing.length > 0) throw badRequest(`Missing required parameter${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
}

export function param(ctx: ActionContext, name: string): string | undefined {
  return ctx.params.get(name);
}

/** qBittorrent's Utils::String::parseBool: "true"/"false" (any case); anything else is "not given". */
export function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  return undefined;
}

/** An integer parameter, or a 400 naming it. Empty or absent = undefined. */
export function intParam(ctx: ActionContext, name: string): number | undefined {
  const v = ctx.params.get(name);
  if (v === undefined || v.trim() === '') return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw badRequest(`'${name}' must be an integer`);
  return Number.parseInt(v.trim(), 10);
}

/** A number parameter (ratios), or a 400 naming it. */
export function numberParam(ctx: ActionContext, name: string): number | undefined {
  const v = ctx.params.get(name);
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v.trim());
  if (!Number.isFinite(n)) throw badRequest(`'${name}' must be a number`);
  return n;
}

/** Lowercase 40-hex infohashes from "h1|h2"; other ids match nothing, as in qBittorrent. */
export function splitHashes(v: string): string[] {
  return v
    .split('|')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/**
 * The torrents a `hashes` parameter names: "all" = every torrent; unknown hashes are skipped, as
 * qBittorrent's applyToTorrents does.
 */
export function selectTorrents(ctx: ActionContext, name = 'hashes'): TorrentRow[] {
  requireParams(ctx, name);
  const rows = ctx.ops.list();
  const raw = ctx.params.get(name)!;
  if (raw.trim().toLowerCase() === 'all') return rows;
  const wanted = new Set(splitHashes(raw));
  return rows.filter((r) => wanted.has(r.infoHash.toLowerCase()));
}

/** Turns an error from CompatOps into qBittorrent's answer, keeping its message. */
export function fromOps(ops: CompatOps, err: unknown, statusFor?: (status: number) => number): QbError {
  if (err instanceof QbError) return err;
  const status = ops.statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const mapped = statusFor ? statusFor(status) : status;
  // The node's database away (issue 42): a 503 with what it said, a client may retry it.
  if (status === 503) return new QbError(503, message);
  return new QbError(mapped >= 500 ? 500 : mapped, mapped >= 500 ? undefined : message);
}
