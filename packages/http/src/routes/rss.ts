// The RSS routes: /api/rss/… over RssService (@cascade/rss). Bodies are checked by its validate.ts (a bad
// field is a 400 naming it, an unknown id a 404), so the schemas here only document the shapes.

import type { FastifyInstance } from 'fastify';
import type { RssService } from '@cascade/rss';
import { errors } from '../schemas/api.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'feed or rule id' } } } as const;
const tags = ['rss'];
const body = { type: 'object', additionalProperties: true } as const;

export function rssRoutes(app: FastifyInstance, rss: RssService): void {
  type Id = { Params: { id: string } };
  type Body = { Body: unknown };

  app.get('/api/rss/feeds', { schema: { summary: 'RSS/Atom feeds with their state (lastRefreshAt, lastError, counts)', tags } }, async () => ({ feeds: await rss.feeds() }));

  app.post<Body>('/api/rss/feeds', {
    schema: { summary: 'Add a feed {url, refreshInterval? (s, ≥ 60; null = global)}; its first refresh starts at once', tags, body, response: errors(400, 409) },
    handler: async (req, reply) => reply.code(201).send(await rss.addFeed(req.body)),
  });

  app.patch<Id & Body>('/api/rss/feeds/:id', {
    schema: { summary: 'Change a feed {url?, refreshInterval?}', tags, params: idParams, body, response: errors(400, 404, 409) },
    handler: async (req) => rss.updateFeed(req.params.id, req.body),
  });

  app.delete<Id>('/api/rss/feeds/:id', {
    schema: { summary: 'Remove a feed and its items (the matches taken stay)', tags, params: idParams, response: errors(400, 404) },
    handler: async (req) => rss.removeFeed(req.params.id),
  });

  app.post<Id>('/api/rss/feeds/:id/refresh', {
    schema: { summary: 'Refresh a feed now; answers when done, with the feed (lastError says if it failed)', tags, params: idParams, response: errors(400, 404) },
    handler: async (req) => (await rss.refresh(req.params.id))[0],
  });

  app.post('/api/rss/refresh', {
    schema: { summary: 'Refresh every feed now', tags },
    handler: async () => ({ feeds: await rss.refresh() }),
  });

  app.get<Id>('/api/rss/feeds/:id/items', {
    schema: { summary: 'A feed’s items, newest first, with read flags and what a rule took', tags, params: idParams, response: errors(400, 404) },
    handler: async (req) => rss.items(req.params.id),
  });

  app.post<Id & Body>('/api/rss/feeds/:id/read', {
    schema: { summary: 'Mark items read {guids?: string[] (omit = all), read?: boolean}', tags, params: idParams, response: errors(400, 404) },
    handler: async (req) => rss.markRead(req.params.id, req.body),
  });

  app.get('/api/rss/rules', { schema: { summary: 'Download rules', tags } }, async () => ({ rules: await rss.rules() }));

  app.post<Body>('/api/rss/rules', {
    schema: {
      summary:
        'Add a download rule {name, enabled?, mustContain?, mustNotContain?, useRegex?, episodeFilter?, smartFilter?, feeds? (ids; [] = all), category?, savePath?, tags?, addPaused?}',
      tags,
      body,
      response: errors(400),
    },
    handler: async (req, reply) => reply.code(201).send(await rss.addRule(req.body)),
  });

  app.post<Body>('/api/rss/rules/preview', {
    schema: { summary: 'The current items an unsaved rule would match', tags, body, response: errors(400) },
    handler: async (req) => rss.preview(undefined, req.body),
  });

  app.patch<Id & Body>('/api/rss/rules/:id', {
    schema: { summary: 'Change a rule (any subset of its fields)', tags, params: idParams, body, response: errors(400, 404) },
    handler: async (req) => rss.updateRule(req.params.id, req.body),
  });

  app.delete<Id>('/api/rss/rules/:id', {
    schema: { summary: 'Remove a rule', tags, params: idParams, response: errors(400, 404) },
    handler: async (req) => rss.removeRule(req.params.id),
  });

  app.post<Id & Body>('/api/rss/rules/:id/preview', {
    schema: { summary: 'The current items a rule matches (a draft of fields in the body is laid over it)', tags, params: idParams, response: errors(400, 404) },
    handler: async (req) => rss.preview(req.params.id, req.body),
  });

  app.get('/api/rss/matches', { schema: { summary: 'The items rules took: when, by which rule, the infohash (or the error)', tags } }, () => rss.matches());

  app.get('/api/rss/settings', { schema: { summary: 'RSS settings {refreshInterval (s), maxItemsPerFeed}', tags } }, () => rss.settings());

  app.patch<Body>('/api/rss/settings', {
    schema: { summary: 'Change RSS settings', tags, body, response: errors(400) },
    handler: async (req) => rss.setSettings(req.body),
  });
}
