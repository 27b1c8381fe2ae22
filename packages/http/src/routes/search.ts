// GET /api/search?q=<words|content id|infohash>: torrents matching in the node's library, then in
// the DHT's signed records (docs/dht-records.md), each with its publisher and where to fetch it.
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';

const str = { type: 'string' } as const;
const hexOrNull = { type: ['string', 'null'] } as const;
export const searchRowSchema = {
  type: 'object',
  properties: {
    infoHash: { ...hexOrNull, description: 'v1 infohash (40 hex); null for a v2-only torrent' },
    infoHashV2: { ...hexOrNull, description: 'v2 infohash (64 hex); null for a v1-only torrent' },
    name: str,
    length: { type: 'integer', description: 'bytes, all files' },
    cids: { type: 'array', items: str, description: "content ids of the torrent's files (as its publisher says)" },
    publisher: { ...str, description: 'did:key that signed the record (this node for its own library)' },
    providers: { type: 'array', items: str, description: 'host:port of nodes serving it' },
    // Fastify writes only the properties listed here: these two were dropped from every answer
    // (the web's "For sale" row never showed) until market.browser.test looked.
    unixfsCids: { type: 'array', items: str, description: "the UnixFS CIDs `ipfs add` gives its files (the folder's first), when its publisher computed them (issue 61)" },
    market: {
      type: 'object',
      description: 'present when the record is a market listing of it (issue 62): where to buy access',
      properties: {
        chainId: { type: 'integer' },
        contract: { ...str, description: 'the market contract (0x + 40 hex)' },
        listingId: { type: 'integer' },
        link: { ...str, description: 'cascade://market/<chain id>/<contract>/<listing id>' },
      },
    },
  },
} as const;

export function searchRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { q: string } }>('/api/search', {
    // Not a viewer's: a search sends the node's DHT look-ups out.
    config: { access: 'member' },
    schema: {
      summary: 'Search by words, content id or infohash: the local library, then the DHT',
      tags: ['torrents'],
      querystring: { type: 'object', required: ['q'], properties: { q: { type: 'string', minLength: 1, maxLength: 500 } } },
      response: { 200: { type: 'array', items: searchRowSchema } },
    },
    handler: async (req) => ctx.node.content.search(req.query.q),
  });
}
