// GET /ipfs/<cid>: the metadata blocks this node holds (torrents it registered), in the IPFS
// trustless-gateway form — `Accept: application/vnd.ipld.raw` (or `?format=raw`) gives the block's
// bytes, which any IPFS client checks against the CID itself. Public: the blocks are what the
// registry points everyone to. Nothing else is served here (no paths, no other codecs, no CAR).
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';

const RAW = 'application/vnd.ipld.raw';

export function ipfsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const serve = async (req: { params: unknown; query: unknown; headers: Record<string, string | string[] | undefined> }, reply: import('fastify').FastifyReply) => {
    const { cid } = req.params as { cid: string };
    const format = (req.query as { format?: string }).format;
    const accept = String(req.headers.accept ?? '');
    if (format !== 'raw' && !accept.includes(RAW)) {
      return reply.code(406).send({ error: 'Not Acceptable', message: `this gateway serves raw blocks only: ask with Accept: ${RAW} or ?format=raw` });
    }
    const bytes = await ctx.chain?.blockBytes(cid);
    if (!bytes) return reply.code(404).send({ error: 'Not Found', message: `no block ${cid} on this node` });
    return reply
      .header('content-type', RAW)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'public, max-age=29030400, immutable')
      .header('x-ipfs-roots', cid)
      .header('etag', `"${cid}.raw"`)
      .send(Buffer.from(bytes));
  };
  // Fastify answers HEAD from this GET route too.
  app.get('/ipfs/:cid', { config: { access: 'public' }, schema: { hide: true } }, (req, reply) => serve(req, reply));
}
