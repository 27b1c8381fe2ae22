// @cascade/compat: other clients' APIs on a Cascade node. Each adapter registers its routes on the
// node's Fastify app and drives the node only through CompatOps, which the server implements.
// Routes carry `config: { access: 'public', selfAuth: true }`: the node's gate checks only the Host
// header and leaves authentication to the adapter (Basic for Transmission, the SID cookie for qBittorrent).
import type { FastifyInstance } from 'fastify';
import type { CompatOps } from './src/ops.ts';
import { transmissionRoutes } from './src/transmission/routes.ts';
import { qbittorrentRoutes } from './src/qbittorrent/routes.ts';

export type * from './src/ops.ts';
export { transmissionRoutes, qbittorrentRoutes };

/** Registers every compatible API on `app`. */
export function compatRoutes(app: FastifyInstance, ops: CompatOps): void {
  transmissionRoutes(app, ops);
  qbittorrentRoutes(app, ops);
}
