// Members of the node: who may use its resources besides the owner, and in which role (viewer,
// member, admin; docs/identity.md has the table). `cascade users …` and the web app's Settings →
// Users call these. The owner is never removed here: it hands over (transfer-owner), or whoever
// holds the machine resets it (`cascade users reset-owner`).

import type { FastifyInstance } from 'fastify';
import type { AuthContext } from '../auth/context.ts';
import { memberId, type Role } from '@cascade/node';
import { callerOf } from '../auth/hook.ts';
import type { Caller } from '../auth/gate.ts';
import { badRequest, HttpError, notFound } from '../app/http-errors.ts';
import { errors } from '../schemas/api.ts';

const memberSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['did', 'address'] },
    role: { type: 'string', enum: ['owner', 'admin', 'member', 'viewer'] },
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
export function contactRoutes(app: FastifyInstance, contactsOf: () => ((did: string) => Promise<{ did: string; name: string | null }[]>) | undefined): void {
  app.get('/api/chat/contacts', {
    config: { access: 'member' },
    schema: { summary: 'The signed-in user’s chat contacts', tags: ['users'], response: { 200: { type: 'object', properties: { contacts: { type: 'array', items: contactSchema } } }, ...errors(401, 403) } },
    handler: async (req) => {
      const did = callerOf(req).did;
      const of = contactsOf();
      return { contacts: did && of ? await of(did) : [] };
    },
  });
}

const roleBody = { type: 'string', enum: ['admin', 'member', 'viewer'], description: 'default member; only the owner gives or takes admin' } as const;

/** Who did it, as members.added_by records it. */
function actor(c: Caller): string {
  return c.via === 'token' ? 'token' : (c.did ?? c.address ?? 'unknown');
}

export function userRoutes(app: FastifyInstance, auth: AuthContext): void {
  app.get('/api/users', {
    config: { access: 'member' },
    schema: { summary: 'The node’s owner, admins, members and viewers', tags: ['users'], response: { 200: { type: 'object', properties: { users: { type: 'array', items: memberSchema } } }, ...errors(401, 403) } },
    handler: async () => ({ users: await auth.store.members() }),
  });

  app.post<{ Body: { id: string; role?: Role } }>('/api/users', {
    config: { access: 'admin' },
    schema: {
      summary: 'Add a member, viewer or (owner only) admin by did:key or Ethereum address; with a role, an existing one gets it',
      tags: ['users'],
      body: { type: 'object', required: ['id'], properties: { id: idSchema, role: roleBody } },
      response: { 200: addedSchema, 201: addedSchema, ...errors(400, 401, 403) },
    },
    handler: async (req, reply) => {
      const m = memberId(req.body.id);
      if (!m) throw badRequest('id must be a did:key (did:key:z…) or an Ethereum address (0x + 40 hex digits)');
      const c = callerOf(req);
      const wanted = req.body.role;
      const current = await auth.store.member(m.id);
      if (current && (wanted === undefined || wanted === current.role)) {
        void reply.code(200);
        return { user: current, existing: true };
      }
      if (current?.role === 'owner') throw new HttpError(409, 'the owner keeps its role: transfer ownership first (POST /api/users/transfer-owner)');
      // Admins manage members and viewers; admins themselves are the owner's to make and unmake.
      if ((wanted === 'admin' || current?.role === 'admin') && c.role !== 'owner') throw new HttpError(403, 'only the node’s owner may make or unmake admins');
      const { member, existing } = await auth.store.addMember(m.id, wanted ?? 'member', actor(c), true);
      auth.changed();
      void reply.code(existing ? 200 : 201);
      return { user: member, existing };
    },
  });

  app.delete<{ Params: { id: string } }>('/api/users/:id', {
    config: { access: 'admin' },
    schema: {
      summary: 'Remove a member or viewer (an admin: owner only)',
      tags: ['users'],
      params: { type: 'object', required: ['id'], properties: { id: idSchema } },
      response: { 200: { type: 'object', properties: { removed: { type: 'boolean' }, id: { type: 'string' } } }, ...errors(400, 401, 403, 404) },
    },
    handler: async (req) => {
      const m = memberId(req.params.id);
      if (!m) throw badRequest('id must be a did:key or an Ethereum address');
      const current = await auth.store.member(m.id);
      if (current?.role === 'owner') throw new HttpError(403, 'the owner cannot be removed: transfer ownership first');
      if (current?.role === 'admin' && callerOf(req).role !== 'owner') throw new HttpError(403, 'only the node’s owner may remove an admin');
      if (!(await auth.store.removeMember(m.id))) throw notFound(`${m.id} is not a member`);
      auth.changed();
      return { removed: true, id: m.id };
    },
  });

  app.post<{ Body: { id: string } }>('/api/users/transfer-owner', {
    config: { access: 'owner' },
    schema: {
      summary: 'Make someone else the owner (did:key or Ethereum address); the owner before stays on as an admin',
      tags: ['users'],
      body: { type: 'object', required: ['id'], properties: { id: idSchema } },
      response: { 200: { type: 'object', properties: { owner: memberSchema, previous: { type: ['string', 'null'] } } }, ...errors(400, 401, 403, 409) },
    },
    handler: async (req) => {
      const m = memberId(req.body.id);
      if (!m) throw badRequest('id must be a did:key (did:key:z…) or an Ethereum address (0x + 40 hex digits)');
      const previous = (await auth.store.owner())?.id ?? null;
      const owner = await auth.store.transferOwnership(m.id, actor(callerOf(req)));
      if (!owner) throw new HttpError(409, 'this node has no owner yet: claim it first');
      auth.changed();
      return { owner, previous };
    },
  });

  app.post('/api/token/rotate', {
    config: { access: 'owner' },
    schema: {
      summary: 'Replace the API token: the old one stops working at once (scripts need the new one, which `cascade token` prints)',
      tags: ['users'],
      response: { 200: { type: 'object', properties: { token: { type: 'string' } } }, ...errors(401, 403) },
    },
    handler: async () => ({ token: await auth.token.rotate() }),
  });
}
