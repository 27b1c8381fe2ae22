// Multipart uploads: content to seed (any field name) or a .torrent file (field `torrent`).
// Content streams to a staging folder inside the download dir and is renamed into place only when
// the whole request arrived within the size limit, so a failed upload leaves nothing behind and a
// finished one never half-overwrites data another torrent seeds.

import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { HttpError, badRequest } from './http-errors.ts';
import { makeDirs } from '@cascade/engine/make-dirs';
import { MAX_ENVELOPES, recipientKeyFromDid } from '@cascade/private-shares';
import { MAX_TORRENT_FILE } from '@cascade/node/features';

const MAX_FILES = 10_000;
const MAX_COMPONENT_BYTES = 255;
/** A whole relative path (folder upload): Linux's PATH_MAX is 4096 with the download dir in front,
 *  Windows clients and other BitTorrent clients cope with far less; deeper trees are not folders
 *  anyone uploads by hand. */
export const MAX_PATH_BYTES = 1024;

/** Add options sent as form fields (savePath, category, tags, paused); tags repeat or are "a,b". */
export interface UploadFields {
  savePath?: string;
  category?: string;
  tags?: string[];
  paused?: boolean;
  /** Private share (issue 24): each recipient's did:key, checked as it arrives (before the file). */
  recipients?: string[];
  /** Private share by link: encrypted, the key only in the answer's `link`. */
  encrypt?: boolean;
  /** Announces and DHT look-ups through onion circuits only (issue 14). */
  privateDiscovery?: boolean;
  /** Files shared: a BitTorrent v1, v2 (BEP 52) or hybrid torrent (default v1). */
  version?: 'v1' | 'v2' | 'hybrid';
  /** A .torrent's data in a bucket (issue 61): 's3://bucket/prefix', or 'disk'. */
  storage?: string;
  /** Files shared: the node's public URL as a BEP 19 web seed, <publicUrl>/webseed/<infohash>/ (issue 61). */
  webSeed?: boolean;
}

export type Upload = (
  | { kind: 'content'; /** Absolute path of the file or folder, now in the download dir. */ path: string; name: string }
  | { kind: 'torrent'; bytes: Uint8Array }
) & { fields: UploadFields };

const OPTION_FIELDS = ['savePath', 'category', 'tags', 'paused', 'recipients', 'encrypt', 'privateDiscovery', 'version', 'storage', 'webSeed'];

const tooLarge = (max: number) => new HttpError(413, `upload too large: the limit is ${max} bytes`);

/**
 * A client-supplied file name → safe path components below the download dir. Browsers send
 * "folder/sub/file" for directory uploads; anything that could climb out, or that the engine's
 * metainfo checks would refuse, is rejected or stripped.
 */
export function sanitizePath(filename: string): string[] {
  const shown = filename.length > 120 ? `${filename.slice(0, 120)}…` : filename;
  const parts = filename
    .split(/[/\\]+/)
    .map((c) => c.replace(/[\0-\x1f\x7f]/g, '').trim())
    .filter((c) => c !== '' && c !== '.');
  if (parts.length === 0) throw badRequest(`file name "${shown}" is empty`);
  for (const c of parts) {
    if (c === '..') throw badRequest(`file name "${shown}" must not contain ".."`);
    if (/^[a-zA-Z]:/.test(c)) throw badRequest(`file name "${shown}" must not contain a drive letter`);
    if (Buffer.byteLength(c) > MAX_COMPONENT_BYTES) throw badRequest(`file name component too long (over ${MAX_COMPONENT_BYTES} bytes) in "${shown}"`);
  }
  if (Buffer.byteLength(parts.join('/')) > MAX_PATH_BYTES) throw badRequest(`path too long (over ${MAX_PATH_BYTES} bytes): "${shown}"`);
  return parts;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `name`, or `name (2).ext`, `name (3).ext`, … : the first that does not exist in dir. */
export async function uniqueName(dir: string, name: string): Promise<string> {
  if (!(await exists(join(dir, name)))) return name;
  const ext = extname(name);
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name;
  for (let i = 2; ; i++) {
    const candidate = `${stem} (${i})${ext}`;
    if (!(await exists(join(dir, candidate)))) return candidate;
  }
}

function uploadFolderName(now = new Date()): string {
  return `upload-${now.toISOString().slice(0, 19).replace(/[T:]/g, '-')}`;
}

/** Counts bytes across every file of the request and fails once the total passes the limit. */
function byteCounter(state: { total: number }, max: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      state.total += chunk.length;
      if (state.total > max) cb(tooLarge(max));
      else cb(null, chunk);
    },
  });
}

/** busboy reports a body it cannot parse with plain Errors (no code, no status): the client's fault, not a 500. */
function malformedMultipart(err: unknown): boolean {
  return err instanceof Error && !(err instanceof HttpError) && !('code' in err) && /^Multipart: |unexpected end of multipart data/i.test(err.message);
}

/** RFC 2046: 1 to 70 characters. busboy throws a plain Error (a 500) for one past 256. */
function checkBoundary(contentType: string | undefined): void {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  const boundary = m ? (m[1] ?? m[2] ?? '') : '';
  if (boundary === '') throw badRequest('malformed multipart body: the Content-Type names no boundary');
  if (boundary.length > 70) throw badRequest(`malformed multipart body: the boundary is ${boundary.length} characters long; at most 70 are allowed (RFC 2046)`);
}

/**
 * Rejects once the connection closes before the whole body arrived (a client gone, or Node's parser
 * refusing a broken chunk after the handler started): the parts iterator would wait for the rest
 * forever, holding the staging folder and an open file.
 */
function bodyCutOff(req: FastifyRequest): { promise: Promise<never>; signal: AbortSignal; done(): void } {
  const ac = new AbortController();
  const raw = req.raw;
  // Not `complete` (all bytes parsed): a connection destroyed with parsed bytes still unread (the
  // next pipelined request was garbage) drops them, and the stream never ends either.
  const onClose = () => {
    if (!raw.readableEnded) ac.abort(badRequest('the request ended before its body did'));
  };
  const promise = new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(ac.signal.reason as Error)));
  promise.catch(() => {});
  if (raw.destroyed) onClose();
  else raw.once('close', onClose);
  return { promise, signal: ac.signal, done: () => raw.off('close', onClose) };
}

interface Received {
  files: string[][];
  torrent: Uint8Array | undefined;
  total: number;
  fields: UploadFields;
}

/** A form field's value as an add option; "paused" takes true/false/1/0/on. */
function addField(fields: UploadFields, name: string, value: string): void {
  if (name === 'tags') {
    fields.tags = [...(fields.tags ?? []), ...value.split(',').map((t) => t.trim()).filter((t) => t !== '')];
    if (fields.tags.length > 1000) throw badRequest('"tags": too many tags');
    return;
  }
  if (name === 'paused' || name === 'encrypt' || name === 'privateDiscovery' || name === 'webSeed') {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'on', 'yes'].includes(v)) fields[name] = true;
    else if (['false', '0', 'off', 'no', ''].includes(v)) fields[name] = false;
    else throw badRequest(`"${name}" must be true or false`);
    return;
  }
  if (name === 'recipients') {
    const did = value.trim();
    // Checked now, so a typo is refused before a large upload, not after it.
    try {
      recipientKeyFromDid(did);
    } catch (err) {
      throw badRequest(`"recipients": ${JSON.stringify(did.slice(0, 120))} is not an Ed25519 did:key (${(err as Error).message})`);
    }
    fields.recipients = [...(fields.recipients ?? []), did];
    if (fields.recipients.length > MAX_ENVELOPES) throw badRequest(`"recipients": at most ${MAX_ENVELOPES} per share`);
    return;
  }
  if (name in fields) throw badRequest(`"${name}" is given twice`);
  if (name === 'version') {
    const v = value.trim().toLowerCase();
    if (v !== 'v1' && v !== 'v2' && v !== 'hybrid') throw badRequest('"version" must be v1, v2 or hybrid');
    fields.version = v;
    return;
  }
  if (name === 'savePath') fields.savePath = value;
  else if (name === 'category') fields.category = value;
  else if (name === 'storage') fields.storage = value;
}

export async function receiveUpload(req: FastifyRequest, downloadDir: string, maxBytes: number): Promise<Upload> {
  checkBoundary(req.headers['content-type']);
  // The staging folder is made for the first file to share: a .torrent upload (thousands of adds
  // in a row) needs none, nor the syscalls to make and remove one.
  let staging: Promise<string> | undefined;
  const stage = () =>
    (staging ??= (async () => {
      await makeDirs(downloadDir);
      return mkdtemp(join(downloadDir, '.cascade-upload-'));
    })());
  const cut = bodyCutOff(req);
  try {
    const reading = readParts(req, stage, maxBytes, cut.signal);
    reading.catch(() => {});
    const { files, torrent, total, fields } = await Promise.race([reading, cut.promise]);
    if (torrent && files.length > 0) throw badRequest('send either files to share or a .torrent, not both');
    if (torrent) {
      if (fields.recipients || fields.encrypt) throw badRequest('"recipients" and "encrypt" apply to files you share, not to a .torrent');
      if (fields.version) throw badRequest('"version" applies to files you share, not to a .torrent');
      return { kind: 'torrent', bytes: torrent, fields };
    }
    if (fields.storage !== undefined) throw badRequest('"storage" applies to a .torrent or a magnet: files you share are seeded from where they were uploaded');
    if (files.length === 0) throw badRequest('the upload contains no file (use a file field, or "torrent" for a .torrent)');
    // A private share's info dictionary is v1's with its envelopes (docs/private-shares.md).
    if ((fields.recipients || fields.encrypt) && fields.version && fields.version !== 'v1') throw badRequest('a private share is a v1 torrent: leave "version" out or give v1');
    // A torrent needs at least one piece.
    if (total === 0) throw badRequest('the uploaded files are empty: there is nothing to share');
    return { kind: 'content', ...(await placeContent(await stage(), files, downloadDir)), fields };
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge(maxBytes);
    if (malformedMultipart(err)) throw badRequest(`malformed multipart body: ${(err as Error).message}`);
    throw err;
  } finally {
    cut.done();
    const made = staging && (await staging.catch(() => undefined));
    if (made) await rm(made, { recursive: true, force: true });
  }
}

async function readParts(req: FastifyRequest, stage: () => Promise<string>, maxBytes: number, signal: AbortSignal): Promise<Received> {
  const files: string[][] = [];
  const fields: UploadFields = {};
  let torrent: Uint8Array | undefined;
  const counted = { total: 0 };
  let current: { file: NodeJS.ReadableStream & { destroy(err?: Error): unknown } } | undefined;
  // The body stopped: the part being written fails now (closing its file) instead of waiting.
  signal.addEventListener('abort', () => current?.file.destroy(signal.reason as Error));
  const parts = req.parts({
    preservePath: true,
    limits: { fileSize: maxBytes, files: MAX_FILES, fields: 100, parts: MAX_FILES + 100 },
  });
  for await (const part of parts) {
    if (signal.aborted) throw signal.reason;
    if (part.type !== 'file') {
      // Add options; other stray form fields carry nothing we use.
      if (OPTION_FIELDS.includes(part.fieldname)) addField(fields, part.fieldname, String(part.value ?? ''));
      continue;
    }
    current = part;
    if (part.fieldname === 'torrent') {
      if (torrent) throw badRequest('send one .torrent file per request');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_TORRENT_FILE) throw new HttpError(413, `a .torrent file may be at most ${MAX_TORRENT_FILE} bytes`);
        chunks.push(chunk);
      }
      torrent = new Uint8Array(Buffer.concat(chunks));
      continue;
    }
    // A part whose headers name nothing has neither (busboy leaves both undefined).
    const rel = sanitizePath(part.filename || part.fieldname || '');
    const staging = await stage();
    const dest = join(staging, ...rel);
    // "q" then "q/r" (or the reverse) names one path as both a file and a folder.
    const fileAndFolder = () => badRequest(`"${rel.join('/')}" and another uploaded path make one name both a file and a folder`);
    // Under the cap, yet too long once inside a deep download dir: still the name's fault, and
    // Node's message would show the server's path.
    const tooLong = () => badRequest(`path too long for the disk: "${rel.join('/').slice(0, 120)}…"`);
    try {
      await makeDirs(dirname(dest));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw fileAndFolder();
      if (code === 'ENAMETOOLONG') throw tooLong();
      throw err;
    }
    // The request went away while the folders were made: the staging folder is gone (or going); do not bring it back.
    if (signal.aborted) {
      await rm(staging, { recursive: true, force: true });
      throw signal.reason;
    }
    try {
      // 'wx': two parts with the same name must not silently replace each other.
      await pipeline(part.file, byteCounter(counted, maxBytes), createWriteStream(dest, { flags: 'wx' }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && (await stat(dest)).isDirectory()) throw fileAndFolder();
      if (code === 'EEXIST') throw badRequest(`the upload names "${rel.join('/')}" twice`);
      if (code === 'EISDIR' || code === 'ENOTDIR') throw fileAndFolder();
      if (code === 'ENAMETOOLONG') throw tooLong();
      throw err;
    }
    // Without the size error (throwFileSizeLimit off), a cut-off file shows up as truncated.
    if (part.file.truncated) throw tooLarge(maxBytes);
    files.push(rel);
  }
  return { files, torrent, total: counted.total, fields };
}

/** Moves the staged upload into the download dir under a name nothing else uses. */
async function placeContent(staging: string, files: string[][], downloadDir: string): Promise<{ path: string; name: string }> {
  let source: string;
  let wanted: string;
  const first = files[0]!;
  if (files.length === 1 && first.length === 1) {
    source = join(staging, first[0]!);
    wanted = first[0]!;
  } else if (files.every((f) => f.length > 1 && f[0] === first[0])) {
    // A folder upload: the torrent is that folder.
    source = join(staging, first[0]!);
    wanted = first[0]!;
  } else {
    source = staging;
    wanted = uploadFolderName();
  }
  const name = await uniqueName(downloadDir, wanted);
  const path = join(downloadDir, name);
  await rename(source, path);
  // mkdtemp made the staging dir 0700; as a shared folder it gets the usual permissions.
  if (source === staging) await chmod(path, 0o755);
  return { path, name };
}
