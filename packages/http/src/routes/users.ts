// Members of the node: who may use its resources besides the owner. `cascade users …` and the web
// app's Settings → Users call these; the owner cannot be removed here (only by a new state dir).

import type { FastifyInstance } from 'fastify';
import type { AuthContext } from '../auth/context.ts';
import { memberId } from '@cascade/node';
import { callerOf } from '../auth/hook.ts';
import { badRequest, HttpError, notFound } from '../app/http-errors.ts';
import { errors } from '../schemas/api.ts';

const memberSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['did', 'address'] },
    role: { type: 'string', enum: ['owner', 'member'] },
    addedAt: { type: 'integer' },
    addedBy: { type: ['string', 'null'] },
  },
} as const;
/** 201 for a new member, 200 when the id was one already. */
const addedSchema = { type: 'object', properties: { user: memberSchema, existing: { type: 'boolean' } } } as const;
const idSchema = { type: 'string', maxLength: 200, description: 'a did:key or a 0x Ethereum address' } as const;

const contactSchema = { type: 'object', properties: { did: { type: 'string' }, name: { type: ['string', 'null'] } } } as const;

/**
 * The people the signed-in user talks with in this node's chat (direct messages, private groups),
 * most recent first: whom a private share can be made for without pasting a did. Nobody else's
 * contacts are ever shown; the API token, which is nobody in chat, has none.
 */
export function contactRoutes(app: FastifyInstance, contactsOf: () => ((did: string) => { did: string; name: string | null }[]) | undefined): void {
  app.get('/api/chat/contacts', {
    config: { access: 'member' },
    schema: { summary: 'The signed-in user’s chat contacts', tags: ['users'], response: { 200: { type: 'object', properties: { contacts: { type: 'array', items: contactSchema } } }, ...errors(401, 403) } },
    handler: async (req) => {
      const did = callerOf(req).did;
      const of = contactsOf();
      return { contacts: did && of ? of(did) : [] };
    },
  });
}

export function userRoutes(app: FastifyInstance, auth: AuthContext): void {
  app.get('/api/users', {
    config: { access: 'member' },
    schema: { summary: 'The node’s owner and members', tags: ['users'], response: { 200: { type: 'object', properties: { users: { type: 'array', items: memberSchema } } }, ...errors(401, 403) } },
    handler: async () => ({ users: auth.store.members() }),
  });

  app.post<{ Body: { id: string } }>('/api/users', {
    config: { access: 'member' },
    schema: {
      summary: 'Add a member by did:key or Ethereum address',
      tags: ['users'],
      body: { type: 'object', required: ['id'], properties: { id: idSchema } },
      response: { 200: addedSchema, 201: addedSchema, ...errors(400, 401, 403) },
    },
    handler: async (req, reply) => {
      if (!memberId(req.body.id)) throw badRequest('id must be a did:key (did:key:z…) or an Ethereum address (0x + 40 hex digits)');
      const c = callerOf(req);
      const { member, existing } = auth.store.addMember(req.body.id, 'member', c.via === 'token' ? 'token' : (c.did ?? c.address ?? 'unknown'));
      auth.changed();
      void reply.code(existing ? 200 : 201);
      return { user: member, existing };
    },
  });

  app.delete<{ Params: { id: string } }>('/api/users/:id', {
    config: { access: 'member' },
    schema: {
      summary: 'Remove a member',
      tags: ['users'],
      params: { type: 'object', required: ['id'], properties: { id: idSchema } },
      response: { 200: { type: 'object', properties: { removed: { type: 'boolean' }, id: { type: 'string' } } }, ...errors(400, 401, 403, 404) },
    },
    handler: async (req) => {
      const m = memberId(req.params.id);
      if (!m) throw badRequest('id must be a did:key or an Ethereum address');
      if (auth.store.owner()?.id === m.id) throw new HttpError(403, 'the owner cannot be removed');
      if (!auth.store.removeMember(m.id)) throw notFound(`${m.id} is not a member`);
      auth.changed();
      return { removed: true, id: m.id };
    },
  });
}
