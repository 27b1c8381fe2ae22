// The node model's own routes: settings, categories and tags. Each handler is one call into the
// model (src/model/), which checks the input and stores the change; the control RPC calls the same.

import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { keepRawBody, notFound, rawBodyOf } from '../app/http-errors.ts';
import { UnknownCategory } from '@cascade/node/features';
import { errors } from '../schemas/api.ts';
import { categoryBody, categoryParams, categoryPatchBody, settingsPatchBody } from '../schemas/model.ts';

const categoriesSchema = { type: 'object', properties: { categories: { type: 'array', items: { $ref: 'Category#' } } } } as const;

/** An unknown category named in the URL is a 404 (in a body it is a 409: the request names a thing that is not there). */
function orNotFound<T>(fn: () => Promise<T> | T): Promise<T> {
  return (async () => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof UnknownCategory) throw notFound(err.message);
      throw err;
    }
  })();
}

export function settingsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { model } = ctx.node;

  app.get('/api/settings', {
    schema: { summary: 'The node’s settings', tags: ['settings'], response: { 200: { $ref: 'Settings#' }, ...errors(401, 403) } },
    handler: async () => model.getSettings(),
  });

  app.patch<{ Body: Record<string, unknown> }>('/api/settings', {
    config: { access: 'owner' },
    preValidation: keepRawBody,
    schema: {
      summary: 'Change any subset of the settings; applied at once and kept across restarts. Answers all of them',
      tags: ['settings'],
      body: settingsPatchBody,
      response: { 200: { $ref: 'Settings#' }, ...errors(400, 401, 403) },
    },
    handler: async (req) => {
      const s = await model.setSettings(rawBodyOf(req));
      ctx.changed();
      return s;
    },
  });

  app.get('/api/categories', {
    schema: { summary: 'Categories and their save paths', tags: ['settings'], response: { 200: categoriesSchema, ...errors(401, 403) } },
    handler: async () => ({ categories: model.listCategories() }),
  });

  app.post<{ Body: { name: string; savePath?: string | null } }>('/api/categories', {
    preValidation: keepRawBody,
    schema: {
      summary: 'Create a category (409 if it exists)',
      tags: ['settings'],
      body: categoryBody,
      response: { 201: { $ref: 'Category#' }, ...errors(400, 401, 403, 409) },
    },
    handler: async (req, reply) => reply.code(201).send(await model.addCategory(rawBodyOf(req))),
  });

  app.patch<{ Params: { name: string }; Body: { savePath: string | null } }>('/api/categories/:name', {
    preValidation: keepRawBody,
    schema: {
      summary: 'Change a category’s save path (torrents already in it stay where they are)',
      tags: ['settings'],
      params: categoryParams,
      body: categoryPatchBody,
      response: { 200: { $ref: 'Category#' }, ...errors(400, 401, 403, 404) },
    },
    handler: async (req) => orNotFound(() => model.updateCategory(req.params.name, rawBodyOf(req))),
  });

  app.delete<{ Params: { name: string } }>('/api/categories/:name', {
    schema: {
      summary: 'Remove a category; its torrents keep their data and lose the category',
      tags: ['settings'],
      params: categoryParams,
      response: { 200: { type: 'object', properties: { name: { type: 'string' }, removed: { type: 'boolean' } } }, ...errors(400, 401, 403, 404) },
    },
    handler: async (req) => {
      await orNotFound(() => model.removeCategory(req.params.name));
      ctx.changed();
      return { name: req.params.name.trim(), removed: true };
    },
  });

  app.get('/api/tags', {
    schema: {
      summary: 'Every tag some torrent carries',
      tags: ['settings'],
      response: { 200: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } }, ...errors(401, 403) },
    },
    handler: async () => ({ tags: model.tags() }),
  });
}
