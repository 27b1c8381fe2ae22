// GET /api/health/ready: can this node serve now? For load balancers and Kubernetes readiness
// probes (issue 42 item 4): 200 {"ready": true}, or 503 {"ready": false, "reason"} while the
// library is still loading, while the node stops, or when its state store does not answer (a
// database over a network can be down while the process lives on), and while a cluster member is
// fenced (its lease taken: it rejoins with a new epoch). /api/health stays what a
// liveness probe asks: the process answers at all.

import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { errorMessage } from '@cascade/node';
import { callerMay } from '../auth/hook.ts';

/** A store that takes longer than this to answer `SELECT 1` is as good as down for a balancer. */
const STORE_TIMEOUT_MS = 2000;

const readySchema = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    reason: { type: 'string' },
    checks: {
      type: 'object',
      properties: { library: { type: 'string' }, store: { type: 'string' }, stopping: { type: 'boolean' }, cluster: { type: 'string' } },
    },
  },
  required: ['ready', 'checks'],
} as const;

async function storeAnswers(ctx: ApiContext): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const slow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
    });
    await Promise.race([ctx.node.db.store.get('SELECT 1 AS one'), slow]);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  } finally {
    clearTimeout(timer);
  }
}

export function readinessRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/health/ready', {
    config: { access: 'public' },
    schema: {
      summary: 'Readiness: 200 when this node can serve, 503 with the reason otherwise (for balancers and probes)',
      tags: ['node'],
      response: { 200: readySchema, 503: readySchema },
    },
    handler: async (req, reply) => {
      const state = ctx.readiness?.() ?? { libraryLoaded: true, stopping: false };
      const storeError = state.stopping ? undefined : await storeAnswers(ctx);
      // A cluster member whose lease was taken (fenced) serves nothing until it is back in.
      const membership = ctx.node.cluster?.state;
      const checks = {
        library: state.libraryLoaded ? 'loaded' : 'loading',
        store: state.stopping ? 'not checked' : storeError === undefined ? 'ok' : 'failing',
        stopping: state.stopping,
        ...(membership !== undefined ? { cluster: membership } : {}),
      };
      const reason = state.stopping
        ? 'the node is stopping'
        : storeError !== undefined
          ? // Where the state is and what the driver said are the node's own business, not a visitor's.
            `the state store does not answer${callerMay(req, 'member') ? ` (${ctx.node.db.store.location}: ${storeError})` : ''}`
          : membership === 'fenced'
            ? 'fenced, rejoining: this member lost its lease on the database and joins again with a new epoch'
            : !state.libraryLoaded
              ? 'the library is still loading'
              : undefined;
      if (reason === undefined) return { ready: true, checks };
      reply.code(503).header('retry-after', '5');
      return { ready: false, reason, checks };
    },
  });
}
