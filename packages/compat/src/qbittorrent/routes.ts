// qBittorrent Web API v2 at /api/v2/….
import type { FastifyInstance } from 'fastify';
import type { CompatOps } from '../ops.ts';

export function qbittorrentRoutes(_app: FastifyInstance, _ops: CompatOps): void {}
