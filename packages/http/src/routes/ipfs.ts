// GET /ipfs/<cid>: the IPFS trustless gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/)
// for what this node holds — the metadata blocks of torrents it registered, and (issue 61) every
// complete file of its public torrents by its UnixFS CID: the file's DAG as @helia/unixfs builds it,
// rebuilt from the file on demand (content-node's ipfs-blocks.ts; docs/storage/ipfs.md).
//   `Accept: application/vnd.ipld.raw` or `?format=raw`: one block (a leaf, a dag-pb node, a
//   metadata block), which any IPFS client checks against the CID itself;
//   `Accept: application/vnd.ipld.car` or `?format=car`: a CARv1 of the DAG under the CID, depth-first,
//   each block once (`?dag-scope=block`: its first block only; `entity` and `all` are the whole file;
//   `&entity-bytes=from:to`: the blocks that verify that byte range of a file, the spec's trustless Range).
// Public: the blocks are what the registry and the node's public torrents give everyone anyway.
// `/ipfs/<cid>/<path>`: inside a multi-file torrent's folder, published as a UnixFS directory (the
// CAR carries the folders on the path first, then what the path names).
// A malformed CID is 400, what the node does not hold 404, a response neither format names 406.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CAR_TYPE, carBlockHead, carHeader, parseCid, RAW_BLOCK_TYPE } from '@cascade/content';
import { errorMessage } from '@cascade/node';
import type { ApiContext } from '../app/context.ts';
import { IMMUTABLE, noneMatch } from './webseed.ts';

const CAR = 'application/vnd.ipld.car';
const SCOPES = new Set(['all', 'entity', 'block']);

type Req = { method: string; params: unknown; query: unknown; headers: Record<string, string | string[] | undefined> };

export function ipfsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const content = async () => {
    try {
      return (await ctx.node.content.ready()).ipfs;
    } catch {
      return undefined; // a node without content ids holds no files by CID
    }
  };

  const serve = async (req: Req, reply: FastifyReply) => {
    const { cid, '*': rest } = req.params as { cid: string; '*'?: string };
    const path = (rest ?? '').split('/').filter((p) => p !== '');
    const q = req.query as { format?: string; 'dag-scope'?: string; 'entity-bytes'?: string };
    const accept = String(req.headers.accept ?? '');
    const format = q.format === 'car' || q.format === 'raw' ? q.format : q.format === undefined ? (accept.includes(CAR) ? 'car' : accept.includes(RAW_BLOCK_TYPE) ? 'raw' : undefined) : null;
    if (format === null) return reply.code(400).send({ error: 'Bad Request', message: `format=${q.format} is not served here: raw or car` });
    if (!format) {
      return reply.code(406).send({ error: 'Not Acceptable', message: `this gateway serves blocks and CARs only: ask with Accept: ${RAW_BLOCK_TYPE} or ${CAR} (or ?format=raw / ?format=car)` });
    }
    const parsed = parseCid(cid);
    if (!parsed) return reply.code(400).send({ error: 'Bad Request', message: `${JSON.stringify(cid.slice(0, 100))} is not a CID` });
    // entity-bytes=from:to, a trustless range (CARs only; it implies dag-scope=entity): the spec's
    // syntax, offsets inclusive, negative ones from the end, `*` for the end.
    const eb = q['entity-bytes'];
    const bytes = eb === undefined ? undefined : parseEntityBytes(eb);
    if (bytes === null) return reply.code(400).send({ error: 'Bad Request', message: `entity-bytes=${String(eb).slice(0, 40)}: write from:to (byte offsets, inclusive; negative from the end; to may be *)` });
    if (bytes && format !== 'car') return reply.code(400).send({ error: 'Bad Request', message: 'entity-bytes is for CAR requests only (format=car)' });
    if (bytes && q['dag-scope'] !== undefined && q['dag-scope'] !== 'entity') return reply.code(400).send({ error: 'Bad Request', message: `entity-bytes implies dag-scope=entity, not ${q['dag-scope']}` });
    const scope = bytes ? 'entity' : (q['dag-scope'] ?? 'all');
    if (!SCOPES.has(scope)) return reply.code(400).send({ error: 'Bad Request', message: `dag-scope=${scope}: all, entity or block` });
    // A CID names its bytes for good: a cache that holds them revalidates with a 304 (docs/storage/cdn.md).
    // The range is part of the answer's identity (the spec asks the Etag to carry it).
    const range = bytes ? `.${bytes.from}:${bytes.to ?? '*'}` : '';
    const tag = format === 'raw' ? `"${cid}.raw"` : `"${cid}.car.${scope}${range}"`;
    if (noneMatch(req.headers['if-none-match'], tag)) return reply.code(304).header('etag', tag).header('cache-control', IMMUTABLE).header('vary', 'Accept').send();
    const common = (type: string, etag: string) =>
      reply
        .header('content-type', type)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', IMMUTABLE)
        .header('x-ipfs-roots', cid)
        .header('vary', 'Accept')
        .header('etag', etag);

    // A metadata block the node registered: a DAG of one block.
    const meta = path.length === 0 ? await ctx.chain?.blockBytes(cid) : undefined;
    const ipfs = meta ? undefined : await content();
    if (format === 'raw') {
      let bytes = meta;
      try {
        bytes ??= await ipfs?.block(cid, path);
      } catch (err) {
        return reply.code(500).send({ error: 'Internal Server Error', message: errorMessage(err) });
      }
      if (!bytes) return reply.code(404).send({ error: 'Not Found', message: `no block ${[cid, ...path].join('/')} on this node` });
      return common(RAW_BLOCK_TYPE, `"${cid}.raw"`).send(Buffer.from(bytes));
    }
    let car: AsyncIterable<Uint8Array> | undefined;
    try {
      car = meta ? oneBlockCar(parsed, meta) : await ipfs?.car(cid, scope as 'all', path, bytes);
    } catch (err) {
      if ((err as Error).name === 'RangeOutside') return reply.code(400).send({ error: 'Bad Request', message: errorMessage(err) });
      return reply.code(500).send({ error: 'Internal Server Error', message: errorMessage(err) });
    }
    if (!car) return reply.code(404).send({ error: 'Not Found', message: `no DAG ${[cid, ...path].join('/')} on this node` });
    const head = common(CAR_TYPE, tag).header('content-disposition', `attachment; filename="${cid}.car"`);
    // HEAD: the answer's headers only (Fastify would drain a stream sent to it: the whole file read).
    if (req.method === 'HEAD') return head.send();
    return head.send(Readable.from(car, { objectMode: false }));
  };
  // Fastify answers HEAD from these GET routes too.
  app.get('/ipfs/:cid', { config: { access: 'public' }, schema: { hide: true } }, (req, reply) => serve(req, reply));
  app.get('/ipfs/:cid/*', { config: { access: 'public' }, schema: { hide: true } }, (req, reply) => serve(req, reply));
}

async function* oneBlockCar(cid: import('@cascade/content').CID, bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield carHeader(cid);
  yield carBlockHead(cid, bytes.length);
  yield bytes;
}

/** `from:to` as the trustless gateway spec writes it, or null when it is not that. */
function parseEntityBytes(text: string): { from: number; to: number | null } | null {
  const m = /^(-?\d{1,15}):(-?\d{1,15}|\*)$/.exec(text);
  if (!m) return null;
  const from = Number(m[1]);
  const to = m[2] === '*' ? null : Number(m[2]);
  // Both offsets from the start: the end before the start is a malformed range.
  if (to !== null && from >= 0 && to >= 0 && to < from) return null;
  return { from, to };
}
