// The API's description: the OpenAPI document made from the route schemas (@fastify/swagger), and
// Swagger UI at /api/docs (@fastify/swagger-ui): loaded at the first request for /api/docs, not
// with every node (the two, yaml and json-schema-resolver are ~100 modules, ~0.04 CPU-s a start).
//
// What the two plugins would do registered on the app is split in two. From here on, the routes
// are collected as @fastify/swagger's own hooks collect them (every route's options as its onRoute
// hook sees them; the plugin instances registered after, whose shared schemas it reads), and
// /api/docs has the routes Swagger UI registers there, with the same patterns (so the gate, the
// cache policy and the request counter see the same routes). At the first request, @fastify/swagger
// is given what was collected, and Swagger UI is registered on a small Fastify instance of its own
// over that document; each request is passed to it (inject) and its answer sent as this app's.
// A path it has no file for is this app's not-found, as @fastify/static's callNotFound made it.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

export const DOCS_PREFIX = '/api/docs';

/** Swagger UI's routes below DOCS_PREFIX (with its defaults: no theme, no baseDir). */
const UI_ROUTES = ['/', '/static/index.html', '/static/swagger-initializer.js', '/json', '/yaml'];
/** Its files, served by @fastify/static for GET and HEAD. */
const UI_FILES = '/static/*';
/** Headers of the inner answer this app's reply sets itself (or that belong to the connection). */
const OWN_HEADERS = new Set(['content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

type Hook = (...args: unknown[]) => unknown;

/** Registers the docs routes and starts collecting what the document is made of; call where
 *  @fastify/swagger would be registered (the routes registered before are not in the document). */
export async function registerDocs(app: FastifyInstance, openapi: NonNullable<FastifyDynamicSwaggerOptions['openapi']>): Promise<void> {
  const routes: RouteOptions[] = [];
  const instances: FastifyInstance[] = [];
  app.addHook('onRoute', (route) => void routes.push(route));
  app.addHook('onRegister', (instance) => void instances.push(instance));

  let docs: Promise<FastifyInstance> | undefined;
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const inner = await (docs ??= docsApp(app, openapi, routes, instances).catch((err: unknown) => {
      docs = undefined;
      throw err;
    }));
    // GET for a HEAD too: this app answers a HEAD with the GET's headers and no body, as before.
    const res = await inner.inject({ method: 'GET', url: req.url, headers: req.headers });
    if (res.statusCode === 404) return reply.callNotFound();
    reply.code(res.statusCode);
    for (const [name, value] of Object.entries(res.headers)) if (value !== undefined && !OWN_HEADERS.has(name)) reply.header(name, value);
    // No body and no type (a redirect): none here either, nor the type a Buffer would be given.
    return res.rawPayload.length === 0 && res.headers['content-type'] === undefined ? reply.send() : reply.send(res.rawPayload);
  };
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
  await new Promise<void>((resolve) => hooks.get('onReady')?.(resolve));

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
