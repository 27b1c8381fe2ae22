// GET /api/cluster (issue 42 item 2): the cluster's members — id, url, alive (their lease on the
// database's clock), lastSeen, torrents, freeBytes, rates — and how many hold each torrent. A node
// not in a cluster answers with itself alone and replicas 1, so a dashboard can always ask. For
// members and above: the members' addresses and figures are the cluster's own business (as
// /api/health's private part), not a viewer's.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { errorMessage, nodeClusterView } from '@cascade/node';
import { errorBody } from '../app/http-errors.ts';

const memberSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: "the member's node key as a did:key" },
    url: { type: 'string', description: 'its HTTP address as the other members reach it (serve --cluster-url)' },
    alive: { type: 'boolean', description: 'its lease (renewed every 2 s, 6 s long) has not run out, on the database clock' },
    lastSeen: { type: 'string', format: 'date-time', description: 'its last renewal' },
    torrents: { type: 'integer', description: 'torrents it runs' },
    freeBytes: { type: 'integer', description: 'free bytes where it saves data' },
    downloadRate: { type: 'integer', description: 'bytes/s of piece data received' },
    uploadRate: { type: 'integer', description: 'bytes/s of piece data sent' },
    epoch: { type: 'integer', description: 'bumped at each join and when declared dead (fencing); 0 for a node not in a cluster' },
    coordinator: { type: 'boolean', description: 'it holds the coordinator lease (declares dead members)' },
    self: { type: 'boolean', description: 'the member that answered' },
  },
  required: ['id', 'url', 'alive', 'lastSeen', 'torrents', 'freeBytes', 'downloadRate', 'uploadRate'],
} as const;

export const clusterSchema = {
  type: 'object',
  properties: {
    members: { type: 'array', items: memberSchema },
    replicas: { type: 'integer', minimum: 1, description: 'members holding each torrent: the replicas setting, else 2 with two or more members alive, else 1' },
  },
  required: ['members', 'replicas'],
} as const;

/** This node's address for a node not in a cluster: its public URL, else the one the caller used. */
function selfUrl(ctx: ApiContext, req: FastifyRequest): string {
  return ctx.node.model.getSettings().publicUrl ?? `${req.protocol}://${req.host}`;
}

export function clusterRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/cluster', {
    config: { access: 'member' },
    schema: {
      summary: "The cluster's members (alive by their lease on the database clock) and its replicas; a node not in a cluster lists itself",
      tags: ['node'],
      response: { 200: clusterSchema, 503: { $ref: 'Error#' } },
    },
    handler: async (req, reply) => {
      try {
        return await nodeClusterView(ctx.node, selfUrl(ctx, req));
      } catch (err) {
        // A member reads the members from the database: down, it is a 503 a client may retry
        // (readers are members: the database's words are theirs to see).
        if (!ctx.node.cluster) throw err;
        reply.code(503).header('retry-after', '5');
        return errorBody(503, `the cluster's database does not answer (${ctx.node.db.store.location}): ${errorMessage(err)}`);
      }
    },
  });
}
