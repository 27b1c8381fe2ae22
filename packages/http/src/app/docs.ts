// The API's description: the OpenAPI document made from the route schemas (@fastify/swagger), and
// Swagger UI at /api/docs (@fastify/swagger-ui): loaded at the first request for /api/docs, not
// with every node (the two, yaml and json-schema-resolver are ~100 modules, ~0.04 CPU-s a start).
//
// At start, the routes are collected as @fastify/swagger's own hooks collect them (every route's
// options as its onRoute hook sees them; the plugin instances registered after, whose shared
// schemas it reads), and /api/docs has the routes Swagger UI registers there, with the same
// patterns. At the first request, @fastify/swagger is given what was collected, and Swagger UI is
// registered on a small Fastify instance of its own over that document (pass-through.ts).
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { passThrough } from './pass-through.ts';

export const DOCS_PREFIX = '/api/docs';

/** Swagger UI's routes below DOCS_PREFIX (with its defaults: no theme, no baseDir). */
const UI_ROUTES = ['/', '/static/index.html', '/static/swagger-initializer.js', '/json', '/yaml'];
/** Its files, served by @fastify/static for GET and HEAD. */
const UI_FILES = '/static/*';

type Hook = (...args: unknown[]) => unknown;

/** Registers the docs routes and starts collecting what the document is made of; call where
 *  @fastify/swagger would be registered (the routes registered before are not in the document). */
export async function registerDocs(app: FastifyInstance, openapi: NonNullable<FastifyDynamicSwaggerOptions['openapi']>): Promise<void> {
  const routes: RouteOptions[] = [];
  const instances: FastifyInstance[] = [];
  app.addHook('onRoute', (route) => void routes.push(route));
  app.addHook('onRegister', (instance) => void instances.push(instance));

  const docs = passThrough(() => docsApp(app, openapi, routes, instances));
  const handler = (req: FastifyRequest, reply: FastifyReply) => docs(req, reply);
  const hidden = { schema: { hide: true } };
  await app.register(
    async (docsRoutes) => {
      for (const url of UI_ROUTES) docsRoutes.get(url, hidden, handler);
      docsRoutes.route({ method: ['HEAD', 'GET'], url: UI_FILES, ...hidden, handler });
    },
    { prefix: DOCS_PREFIX },
  );
}

/**
 * @fastify/swagger's dynamic mode run over what registerDocs collected: its plugin function is given
 * a stand-in for the app with the three things it uses (addHook, decorate, getSchemas); its hooks
 * then see the routes and instances, and run their onReady, as they would have on the app.
 * Swagger UI goes on a Fastify instance of its own that has the document (its `swagger` decorator).
 */
async function docsApp(app: FastifyInstance, openapi: NonNullable<FastifyDynamicSwaggerOptions['openapi']>, routes: RouteOptions[], instances: FastifyInstance[]): Promise<FastifyInstance> {
  const [{ fastifySwagger }, { fastifySwaggerUi }] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui')]);
  const hooks = new Map<string, Hook>();
  let swagger: unknown;
  const standIn = {
    addHook: (name: string, fn: Hook) => void hooks.set(name, fn),
    decorate: (_name: string, value: unknown) => void (swagger = value),
    getSchemas: () => app.getSchemas(),
  };
  await new Promise<void>((resolve, reject) =>
    (fastifySwagger as unknown as (f: typeof standIn, o: FastifyDynamicSwaggerOptions, done: (err?: Error) => void) => void)(standIn, { openapi }, (err) => (err ? reject(err) : resolve())),
  );
  for (const route of routes) hooks.get('onRoute')?.(route);
  for (const instance of instances) await hooks.get('onRegister')?.(instance);
  const onReady = hooks.get('onReady');
  if (onReady) await new Promise<void>((resolve) => onReady(resolve));

  const inner = Fastify();
  inner.decorate('swagger', swagger as FastifyInstance['swagger']);
  inner.setErrorHandler(app.errorHandler);
  // Called inside a plugin of ours: registered itself, Swagger UI would look for @fastify/swagger
  // among the instance's plugins (its declared dependency), which it is not here.
  // (Its plugin function is async, though typed as one with a callback.)
  const ui = fastifySwaggerUi as unknown as (f: FastifyInstance, o: { routePrefix: string }) => Promise<void>;
  await inner.register(async (f) => ui(f, { routePrefix: DOCS_PREFIX }));
  await inner.ready();
  return inner;
}
