// Transmission RPC (spec 17) at POST /transmission/rpc and /transmission/rpc/.
import type { FastifyInstance } from 'fastify';
import type { CompatOps } from '../ops.ts';

export function transmissionRoutes(_app: FastifyInstance, _ops: CompatOps): void {}
