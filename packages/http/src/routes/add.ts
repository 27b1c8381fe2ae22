// POST /api/torrents: share uploaded files (create a torrent and seed it), add an uploaded .torrent,
// or add a magnet / infohash / .torrent URL given as JSON {"uri": …}. Answers {infoHash, magnet, name}.

import { cp, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createTorrent, defaultPieceLength, encodeTorrent, CLIENT_NAME } from '@cascade/engine';
import type { ApiContext } from '../app/context.ts';
import type { TorrentSource, Metainfo } from '@cascade/node/features';
import { receiveUpload, uniqueName, type UploadFields } from '../app/upload.ts';
import { INFO_KEY, linkFor, recipientKeyFromDid, sharePieceLength } from '@cascade/private-shares';
import type { SealedFiles } from '@cascade/private-shares/node';
import type { BDict } from '@cascade/engine/bencode';
import { makeDirs } from '@cascade/engine/make-dirs';
import { addResult, addSource, addTorrentBytes, addUri, type AddOptions, type AddResult } from '@cascade/node/features';
import { badRequest, HttpError, keepRawBody, rawBodyOf } from '../app/http-errors.ts';
import { addJsonBody, addMultipartBody, addResultSchema, errors, plainDownloadSchema } from '../schemas/api.ts';
import { PlainDownloads, plainOrTorrent } from '@cascade/node/features';
import { isContentId, sha256FromCid } from '@cascade/content';
import { resolveAllowed, UrlRefused, type PrivateAllowance } from '@cascade/node/features';

interface AddBody extends AddOptions {
  uri: string;
  sha256?: string;
}

/** A bitfield with every one of `count` pieces set (spare bits past the end stay clear). */
function allPieces(count: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(count / 8)).fill(0xff);
  const spare = bits.length * 8 - count;
  if (spare > 0) bits[bits.length - 1] = (0xff << spare) & 0xff;
  return bits;
}

export function addRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { node } = ctx;

  const add = (infoHash: string, source: TorrentSource, extra: AddOptions = {}) => addSource(node, infoHash, source, extra);
  const addBytes = (bytes: Uint8Array, extra?: AddOptions) => addTorrentBytes(node, bytes, extra);

  /** Makes a torrent of content now in the download dir (moved first where the options say) and seeds it. */
  const shareContent = async (placed: string, options: AddOptions & UploadFields): Promise<AddResult> => {
    let plan: Awaited<ReturnType<typeof node.model.planAdd>>;
    let path = placed;
    // The web seed is the node's own public address (a CDN in front of it): known before any work.
    const webSeedBase = options.webSeed ? node.model.getSettings().publicUrl : undefined;
    try {
      if (options.webSeed && !webSeedBase) throw badRequest('"webSeed" needs the node\'s public URL (the publicUrl setting) to put in the torrent');
      if (options.webSeed && options.version === 'v2') throw badRequest('"webSeed" serves files by v1 infohash: share as v1 or hybrid');
      plan = await node.model.planAdd(options);
      if (plan.savePath !== dirname(placed)) {
        path = await moveInto(placed, plan.savePath).catch((err: NodeJS.ErrnoException) => {
          throw typeof err.code === 'string' ? badRequest(`"savePath" cannot be used (${err.code})`) : err;
        });
      }
    } catch (err) {
      await rm(placed, { recursive: true, force: true });
      throw err;
    }
    const dir = dirname(path);
    const sealing = options.encrypt === true || (options.recipients?.length ?? 0) > 0;
    let made: Awaited<ReturnType<typeof createTorrent>>;
    let sealed: SealedFiles | undefined;
    try {
      if (sealing) {
        // A private share (issue 24): the torrent is made of the ciphertext, beside the plaintext.
        // The node's own key joins the recipients, so it reads its share back from any seeder.
        const recipients = options.recipients?.length ? [...options.recipients.map(recipientKeyFromDid), node.privateShares.ownRecipientKey()] : [];
        // Imported by the first private share made here (its sealing: 7 modules), not at every node's start.
        sealed = await (await import('@cascade/private-shares/node')).sealFiles(path, dir, recipients);
        made = await createTorrent(sealed.cipherPath, {
          announce: ctx.announceUrls(),
          createdBy: CLIENT_NAME,
          pieceLength: sharePieceLength(sealed.cipherLength, sealed.info.chunk, defaultPieceLength(sealed.cipherLength)),
          extraInfo: { [INFO_KEY]: sealed.info as unknown as BDict },
        });
      } else {
        made = await createTorrent(path, { announce: ctx.announceUrls(), createdBy: CLIENT_NAME, version: options.version ?? 'v1' });
      }
    } catch (err) {
      // The upload is only worth keeping as a torrent.
      await rm(path, { recursive: true, force: true });
      if (sealed) await rm(sealed.cipherPath, { force: true });
      throw err;
    }
    const { metainfo } = made;
    let torrent = made.torrent;
    // BEP 19 url-list sits outside the info dict: added after hashing, the infohash stays (routes/webseed.ts).
    if (webSeedBase) {
      metainfo.urlList = [...metainfo.urlList, `${webSeedBase.replace(/\/+$/, '')}/webseed/${metainfo.infoHashHex}/`];
      torrent = encodeTorrent(metainfo);
    }
    if (sealed) await node.privateShares.keys.set(metainfo.infoHashHex, sealed.key, 'shared');
    const existing = node.session.get(metainfo.infoHashHex);
    if (existing) return addResult(existing, true, node);
    // createTorrent just hashed every piece of data we wrote ourselves; telling the engine so (as
    // resume data) spares hashing a large upload a second time when it is added.
    await node.db.resume.save(metainfo.infoHashHex, {
      have: allPieces(metainfo.pieceCount),
      infoBytes: metainfo.infoBytes,
      files: await fileStats(dir, metainfo),
    });
    try {
      // Seeded from where it now is, whatever a category would say.
      const { recipients: _r, encrypt: _e, version: _v, webSeed: _w, ...addOptions } = options;
      // On the disk, where the upload is, whatever the node's default storage (a bucket) says.
      const r = await add(metainfo.infoHashHex, torrent, { ...addOptions, savePath: dir, storage: 'disk' });
      if (!sealed) return r;
      return { ...r, encrypted: true, ...(options.recipients?.length ? {} : { link: linkFor(r.magnet, sealed.key) }) };
    } catch (err) {
      // Refused (its name is another torrent's file, say): the upload goes, as above.
      await node.db.resume.delete(metainfo.infoHashHex);
      await rm(path, { recursive: true, force: true });
      if (sealed) {
        await node.privateShares.keys.delete(metainfo.infoHashHex);
        await rm(sealed.cipherPath, { force: true });
      }
      throw err;
    }
  };

  /** A plain file the node downloaded: made a torrent of and seeded from where it is. */
  const shareFile = async (path: string): Promise<string> => {
    const { torrent, metainfo } = await createTorrent(path, { announce: ctx.announceUrls(), createdBy: CLIENT_NAME });
    const r = await add(metainfo.infoHashHex, torrent, { savePath: dirname(path), storage: 'disk' });
    ctx.changed();
    return r.infoHash;
  };
  const plain = new PlainDownloads({ allowPrivate: ctx.allowPrivateUrls, share: shareFile });
  app.addHook('onClose', async () => plain.close());

  /** {"uri": http(s)/ftp URL of a plain file}: answered 202 with the download, which runs on. */
  const startPlain = async (body: AddBody, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const uri = body.uri.trim();
    const mirrors = body.mirrors ?? [];
    if (!Array.isArray(mirrors)) throw badRequest('body/mirrors must be a list of URLs');
    // Every mirror, whatever it is a mirror of (a plain file, a .torrent URL, a magnet), is checked here.
    await refusePrivateUrls(mirrors, ctx.allowPrivateUrls, 'mirror');
    const begin = async (urls: string[], sha256: Uint8Array | undefined) => {
      // Refused now, not only when the job's first request is: the caller hears it in this answer.
      await refusePrivateUrls(urls.slice(0, 1), ctx.allowPrivateUrls, 'url');
      const { savePath } = await node.model.planAdd({ savePath: body.savePath, category: body.category, tags: body.tags });
      await makeDirs(savePath);
      return reply.code(202).send({ download: plain.start({ url: urls[0]!, mirrors: urls.slice(1), sha256, savePath }) });
    };
    // A content id with mirrors: the file from them, checked against the id.
    if (isContentId(uri) && mirrors.length > 0) return begin(mirrors, sha256FromCid(uri));
    if (!/^(https?|ftp):\/\//i.test(uri)) {
      if (body.sha256 !== undefined) throw badRequest('sha256 checks a plain file: give its http(s):// or ftp:// URL');
      return undefined;
    }
    const kind = await plainOrTorrent(uri, ctx.allowPrivateUrls, body.sha256 !== undefined);
    if (kind !== 'plain') {
      if (kind instanceof Uint8Array) return send(reply, await addBytes(kind, withoutPlainFields(body)));
      return undefined;
    }
    return begin([uri, ...mirrors], body.sha256 ? Uint8Array.from(Buffer.from(body.sha256, 'hex')) : undefined);
  };

  app.get('/api/downloads', {
    schema: {
      summary: 'Plain files being downloaded from URLs (and their mirrors), with the bytes each source gave',
      tags: ['torrents'],
      response: { 200: { type: 'object', properties: { downloads: { type: 'array', items: plainDownloadSchema } } } },
    },
    handler: async () => ({ downloads: plain.list() }),
  });

  app.get<{ Params: { id: string } }>('/api/downloads/:id', {
    schema: { summary: 'One plain-file download', tags: ['torrents'], response: { 200: plainDownloadSchema, ...errors(404) } },
    handler: async (req) => {
      const job = plain.get(req.params.id);
      if (!job) throw new HttpError(404, `no download ${req.params.id}`);
      return job;
    },
  });

  app.post<{ Body: AddBody | undefined }>('/api/torrents', {
    preValidation: keepRawBody,
    schema: {
      summary: 'Share files (multipart upload), add a .torrent (multipart field `torrent`), or add {"uri": magnet | infohash | .torrent URL}',
      tags: ['torrents'],
      consumes: ['multipart/form-data', 'application/json'],
      body: {
        content: {
          'application/json': { schema: addJsonBody },
          'multipart/form-data': { schema: addMultipartBody },
        },
      },
      response: {
        200: addResultSchema,
        201: addResultSchema,
        202: { type: 'object', properties: { download: plainDownloadSchema }, description: 'a plain file: downloading (GET /api/downloads/{id})' },
        ...errors(400, 413, 415, 422),
      },
    },
    handler: async (req, reply) => {
      let r: AddResult;
      if (req.isMultipart()) {
        const upload = await receiveUpload(req, ctx.downloadDir, ctx.maxUploadBytes);
        r = upload.kind === 'torrent' ? await addBytes(upload.bytes, upload.fields) : await shareContent(upload.path, upload.fields);
      } else {
        const body = rawBodyOf(req) as AddBody | undefined;
        if (!body || typeof body !== 'object') throw badRequest('send files as multipart/form-data, or JSON {"uri": "magnet:…"}');
        // Checked as sent (the schema's coercion would take 5 for "5" and "x" for ["x"]).
        if (typeof body.uri !== 'string') throw badRequest('body/uri must be string');
        if (body.peers !== undefined && !(Array.isArray(body.peers) && body.peers.every((p) => typeof p === 'string'))) {
          throw badRequest('body/peers must be a list of "host:port" strings');
        }
        if (body.privateDiscovery !== undefined && typeof body.privateDiscovery !== 'boolean') throw badRequest('body/privateDiscovery must be true or false');
        const started = await startPlain(body, reply);
        if (started) return started;
        const { uri, ...extra } = withoutPlainFields(body);
        r = await addUri(node, uri, extra, { allowPrivateUrls: ctx.allowPrivateUrls });
      }
      ctx.changed();
      return send(reply, r);
    },
  });
}

/** The add options of a body, without what only a plain file takes (its sha256). */
function withoutPlainFields(body: AddBody): AddBody {
  const { sha256: _s, ...rest } = body;
  return rest;
}

function send(reply: FastifyReply, r: AddResult): FastifyReply {
  return reply.code(r.existing ? 200 : 201).send(r);
}

async function fileStats(downloadDir: string, meta: Metainfo): Promise<{ length: number; mtimeMs: number }[]> {
  return Promise.all(
    meta.files.map(async (f) => {
      const path = meta.multiFile ? join(downloadDir, meta.name, ...f.path) : join(downloadDir, meta.name);
      try {
        const st = await stat(path);
        return { length: st.size, mtimeMs: Math.floor(st.mtimeMs) };
      } catch {
        throw new HttpError(500, `uploaded file ${path} vanished before it could be shared`);
      }
    }),
  );
}

/** Moves an uploaded file or folder into another directory under a free name (copies across disks). */
async function moveInto(path: string, dir: string): Promise<string> {
  await makeDirs(dir);
  const dest = join(dir, await uniqueName(dir, basename(path)));
  try {
    await rename(path, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await cp(path, dest, { recursive: true, errorOnExist: true, force: false });
    await rm(path, { recursive: true, force: true });
  }
  return dest;
}

/** A torrent's mirrors become the engine's web seeds, which fetch them as they are: their hosts are
 *  checked here as the node's other fetches are (url-guard.ts), so the API cannot point the node at
 *  its own LAN without --allow-private-urls. (Checked once, at the add: a name that later resolves
 *  elsewhere is not caught, unlike the pinned fetches of .torrent URLs and plain files.) */
async function refusePrivateUrls(urls: string[], allowPrivate: PrivateAllowance, what: 'mirror' | 'url'): Promise<void> {
  for (const m of urls) {
    if (typeof m !== 'string' || !/^(https?|ftp):\/\/[^/]/i.test(m)) throw badRequest(`${what} "${m}" is not an http(s):// or ftp:// URL`);
    try {
      // resolveAllowed speaks http(s); an ftp host is checked the same way.
      await resolveAllowed(new URL(m.replace(/^ftp:/i, 'http:')), allowPrivate);
    } catch (err) {
      // The link itself refused is 422, as for a .torrent URL (fetch-torrent.ts); a bad mirror field 400.
      if (err instanceof UrlRefused) throw new HttpError(what === 'url' ? 422 : 400, `${what === 'url' ? 'cannot fetch' : 'mirror'} ${m}: ${err.message}`);
      throw err;
    }
  }
}
