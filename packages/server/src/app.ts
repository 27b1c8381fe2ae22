// The Fastify app: plugins, hooks and routes, without listening (startServer does that). The
// OpenAPI document comes from the route schemas: UI at /api/docs, JSON at /api/docs/json.

import Fastify, { type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { ApiContext } from './context.ts';
import { handleError, errorBody } from './http-errors.ts';
import { originAllowed } from './origin.ts';
import { sharedSchemas } from './schemas.ts';
import { torrentRoutes } from './routes/torrents.ts';
import { addRoutes } from './routes/add.ts';
import { streamRoutes } from './routes/stream.ts';
import { healthRoutes } from './routes/health.ts';
import { registerWeb } from './web.ts';

export interface AppOptions {
  webRoot: string;
  /** Origins besides the app's own that may call the API from a browser (a dev server). */
  allowedOrigins?: string[];
  logger?: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export async function buildApp(ctx: ApiContext, opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    // Uploads can take long; the default 10 s request timeout of some proxies does not apply here.
    requestTimeout: 0,
    // Validation errors name the failing part ("body/uri must be string").
    ajv: { customOptions: { allErrors: false } },
  });
  app.setErrorHandler(handleError);
  // Fastify parses text/plain by default; nothing here takes it, so let it be a 415 like any other type.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (req, reply) => {
    if (!SAFE_METHODS.has(req.method) && !originAllowed(req.raw, opts.allowedOrigins)) {
      return reply.code(403).send(errorBody(403, `requests from ${req.headers.origin} are not allowed`));
    }
  });

  for (const s of sharedSchemas) app.addSchema(s);

  await app.register(multipart, {
    // The per-request limit is enforced in upload.ts (it also counts across files).
    limits: { fileSize: ctx.maxUploadBytes },
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Cascade node API',
        description: 'Torrents, uploads, streaming and node health. Live updates: socket.io at /socket.io (see the server README).',
        version: '0.1.0',
      },
      tags: [
        { name: 'torrents', description: 'the torrent library' },
        { name: 'node', description: 'the node itself' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  torrentRoutes(app, ctx);
  addRoutes(app, ctx);
  streamRoutes(app, ctx);
  healthRoutes(app, ctx);
  await registerWeb(app, opts.webRoot);
  return app;
}
