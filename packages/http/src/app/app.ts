// The Fastify app: plugins, hooks and routes, without listening (startServer does that). The
// OpenAPI document comes from the route schemas: UI at /api/docs, JSON at /api/docs/json.

import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type SerializerSelector from '@fastify/fast-json-stringify-compiler';
import multipart from '@fastify/multipart';
import type { ApiContext } from './context.ts';
import { errorHandlerWith } from './http-errors.ts';
import { registerDocs } from './docs.ts';
import { installGate } from '../auth/hook.ts';
import { metricsRoutes } from '../routes/metrics.ts';
import { authRoutes } from '../routes/auth.ts';
import { contactRoutes, userRoutes } from '../routes/users.ts';
import { sharedSchemas } from '../schemas/api.ts';
import { modelSchemas } from '../schemas/model.ts';
import { settingsRoutes } from '../routes/settings.ts';
import { announceRoutes } from '../routes/announce.ts';
import { torrentRoutes } from '../routes/torrents.ts';
import { queueRoutes } from '../routes/queue.ts';
import { addRoutes } from '../routes/add.ts';
import { streamRoutes } from '../routes/stream.ts';
import { healthRoutes } from '../routes/health.ts';
import { readinessRoutes } from '../routes/readiness.ts';
import { clusterRoutes } from '../routes/cluster.ts';
import { ipfsRoutes } from '../routes/ipfs.ts';
import { webseedRoutes } from '../routes/webseed.ts';
import { installCachePolicy } from './cache-policy.ts';
import { chainRoutes } from '../routes/chain.ts';
import { marketRoutes } from '../routes/market.ts';
import { networkRoutes } from '../routes/network.ts';
import { searchRoutes } from '../routes/search.ts';
import { rssRoutes } from '../routes/rss.ts';
import { registerWeb } from './web.ts';
import { compatRoutes, type CompatOps } from '@cascade/compat';
import type { Assistant } from '@cascade/assistant';
import { assistantRoutes } from '../routes/assistant.ts';

export interface AppOptions {
  webRoot: string;
  logger?: boolean;
  /** The node as Transmission RPC and qBittorrent's Web API see it; omitted = those APIs are off. */
  compat?: CompatOps;
  /** A credential that reads /metrics only (ServerOptions.metricsToken). */
  metricsToken?: string | undefined;
  /** The help assistant (POST /api/assistant); omitted = no assistant routes. */
  assistant?: Assistant | undefined;
}

const fromHere = createRequire(import.meta.url);

/**
 * Response serializers (fast-json-stringify) compiled when a route first answers with that status,
 * not every route's at start-up: compiling them all was about 1.2 s of a node's 7 s start here, in
 * every `cascade serve` and every test server, for routes most runs never call. The compiler itself
 * (fast-json-stringify, and Ajv under it: ~100 modules) is loaded by the first, not at start.
 */
function lazySerializers(): SerializerSelector.SerializerFactory {
  let build: ReturnType<typeof SerializerSelector> | undefined;
  return (externalSchemas, options) => {
    let compiler: SerializerSelector.SerializerCompiler | undefined;
    const compile: SerializerSelector.SerializerCompiler = (route) => {
      build ??= (fromHere('@fastify/fast-json-stringify-compiler') as typeof SerializerSelector)();
      return (compiler ??= build(externalSchemas, options))(route);
    };
    return (route) => {
      let serialize: SerializerSelector.Serializer | undefined;
      return (doc) => (serialize ??= compile(route))(doc);
    };
  };
}

type ValidatorFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;

/**
 * Request validators (Ajv) compiled when a route is first called, like the serializers above: at
 * start-up, Fastify built Ajv with its meta-schema and the shared schemas and compiled every route's
 * body, query and params validator, some 0.3 CPU-s of each `cascade serve` and test server's start
 * (issue 64 item 4), for routes most runs never call. The compiler is Fastify's own default (its
 * @fastify/ajv-compiler, resolved from Fastify, with the same Ajv options), so what is accepted and
 * the error messages are unchanged. A validator answers Fastify as Ajv's would: its result, then
 * its `errors`; `schemaEnv` says it takes (data, {parentData, parentDataProperty}), so a root
 * value Ajv coerces is put back. (With a factory of its own Fastify leaves a headers schema's keys
 * as written instead of lower-casing them: no route here validates headers.)
 */
function lazyValidators(): ValidatorFactory {
  // Loaded (with Ajv) by the first validation, like the serializers' compiler.
  let build: ValidatorFactory | undefined;
  return ((externalSchemas: unknown, options: unknown) => {
    let compile: ((route: unknown) => (...args: unknown[]) => unknown) | undefined;
    return (route: unknown) => {
      let validate: ((...args: unknown[]) => unknown) & { errors?: unknown } | undefined;
      const lazy = (...args: unknown[]) => {
        build ??= (createRequire(fromHere.resolve('fastify'))('@fastify/ajv-compiler') as () => ValidatorFactory)();
        compile ??= (build as (s: unknown, o: unknown) => typeof compile)(externalSchemas, options)!;
        validate ??= compile(route);
        const result = validate(...args);
        lazy.errors = validate.errors;
        return result;
      };
      lazy.errors = undefined as unknown;
      lazy.schemaEnv = true;
      return lazy;
    };
  }) as unknown as ValidatorFactory;
}

export async function buildApp(ctx: ApiContext, opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    // Uploads can take long; the default 10 s request timeout of some proxies does not apply here.
    requestTimeout: 0,
    // Validation errors name the failing part ("body/uri must be string").
    ajv: { customOptions: { allErrors: false } },
    schemaController: { compilersFactory: { buildSerializer: lazySerializers(), buildValidator: lazyValidators() } },
  });
  app.setErrorHandler(errorHandlerWith((name, fields) => ctx.node.out.event(name, fields)));
  // Fastify parses text/plain by default; nothing here takes it, so let it be a 415 like any other type.
  app.removeContentTypeParser('text/plain');

  // Host, Origin, credentials and each route's access level (auth/gate.ts).
  installGate(app, ctx.auth.gate);
  // What a shared cache may keep: nothing that depends on who asks (cache-policy.ts).
  installCachePolicy(app);
  // GET /metrics, and the request counter every route after it is counted by.
  metricsRoutes(app, ctx, { metricsToken: opts.metricsToken });
  // A request may leave megabytes behind (GET /api/torrents of 10,000 is 7 MB of JSON): a script
  // polling it fills the heap with garbage that the memory reducer gives back once the polls stop.
  app.addHook('onResponse', (_req, _reply, done) => {
    ctx.node.memory.activity();
    done();
  });

  for (const s of [...sharedSchemas, ...modelSchemas]) app.addSchema(s);

  await app.register(multipart, {
    // The per-request limit is enforced in upload.ts (it also counts across files).
    limits: { fileSize: ctx.maxUploadBytes },
  });
  // The OpenAPI document of the routes registered from here on, and Swagger UI (docs.ts).
  await registerDocs(app, {
    info: {
      title: 'Cascade node API',
      description: 'Torrents, uploads, streaming and node health. Live updates: socket.io at /socket.io (see the server README).',
      version: '0.1.0',
    },
    tags: [
      { name: 'torrents', description: 'the torrent library' },
      { name: 'node', description: 'the node itself' },
      { name: 'settings', description: 'settings, categories and tags' },
      { name: 'auth', description: 'sign-in with a did:key or an Ethereum account (SIWE), sessions, ownership' },
      { name: 'users', description: 'the node’s owner and members' },
      { name: 'rss', description: 'RSS/Atom feeds, download rules and the matches they took' },
      { name: 'assistant', description: 'the help assistant: checks of this node and answers from the help entries' },
      { name: 'chain', description: 'ownership records in the content registry, seeding rewards from receipts' },
      { name: 'market', description: 'selling and buying access to private shares on the market contract: escrow, key delivery, refunds' },
    ],
  });

  torrentRoutes(app, ctx);
  queueRoutes(app, ctx);
  addRoutes(app, ctx);
  streamRoutes(app, ctx);
  healthRoutes(app, ctx);
  readinessRoutes(app, ctx);
  clusterRoutes(app, ctx);
  ipfsRoutes(app, ctx);
  webseedRoutes(app, ctx);
  chainRoutes(app, ctx);
  marketRoutes(app, ctx);
  networkRoutes(app, ctx);
  searchRoutes(app, ctx);
  rssRoutes(app, ctx.rss);
  settingsRoutes(app, ctx);
  announceRoutes(app, ctx);
  authRoutes(app, ctx.auth);
  userRoutes(app, ctx.auth);
  contactRoutes(app, () => ctx.chat?.contactsOf);
  if (opts.assistant) assistantRoutes(app, ctx, opts.assistant);
  if (opts.compat) compatRoutes(app, opts.compat);
  await registerWeb(app, opts.webRoot);
  return app;
}
