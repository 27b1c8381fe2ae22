// Sign-in (challenge → signature → session cookie), sign-out, who am I, the first-run claim of
// ownership, and the node's identity. See docs/identity.md for the protocol.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { claimCodeMatches, removeClaimCode } from '@cascade/node';
import type { AuthContext } from '../auth/context.ts';
import { SESSION_COOKIE, type Caller } from '../auth/gate.ts';
import { SESSION_TTL_MS } from '@cascade/node/features';
import { SignInError } from '../auth/sign-in.ts';
import { HttpError } from '../app/http-errors.ts';
import { errors } from '../schemas/api.ts';
import { callerOf } from '../auth/hook.ts';
import { ClaimTries } from '../auth/claim.ts';

const str = { type: 'string' } as const;
const nstr = { type: ['string', 'null'] } as const;
const roleSchema = { type: ['string', 'null'], enum: ['owner', 'admin', 'member', 'viewer', 'visitor', null] } as const;
const nodeSchema = { type: 'object', properties: { did: str, address: str } } as const;
const signedInSchema = {
  type: 'object',
  properties: { signedIn: { type: 'boolean' }, did: nstr, address: nstr, role: roleSchema },
} as const;

/** The origin a sign-in is for: the page's Origin, or for a tool without one, the Host it used. */
function originOf(req: FastifyRequest): string {
  return req.headers.origin ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

function sessionCookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function asHttp(err: unknown): unknown {
  return err instanceof SignInError ? new HttpError(err.status, err.message) : err;
}

function whoami(caller: Caller) {
  const address = caller.address ?? null;
  return { signedIn: caller.role !== null, did: caller.did, address, role: caller.role };
}

export function authRoutes(app: FastifyInstance, auth: AuthContext): void {
  const pub = { access: 'public' } as const;
  const claimTries = new ClaimTries();

  app.post('/api/auth/challenge', {
    config: pub,
    schema: {
      summary: 'Ask for a sign-in message to sign ({method: "did", did} or {method: "siwe", address, chainId?})',
      tags: ['auth'],
      body: {
        type: 'object',
        required: ['method'],
        properties: { method: { type: 'string', enum: ['did', 'siwe'] }, did: str, address: str, chainId: { type: 'integer' } },
      },
      response: {
        200: { type: 'object', properties: { method: str, nonce: str, message: str, expiresAt: { type: 'integer' } } },
        ...errors(400, 403),
      },
    },
    handler: async (req) => {
      try {
        return await auth.signIn.challenge(req.body, originOf(req), req.headers.host ?? 'localhost');
      } catch (err) {
        throw asHttp(err);
      }
    },
  });

  app.post('/api/auth/verify', {
    config: pub,
    schema: {
      summary: 'Answer a challenge: {message, signature, binding?} → a session cookie',
      tags: ['auth'],
      body: { type: 'object', required: ['message', 'signature'], properties: { message: str, signature: str, binding: { type: 'object' } } },
      response: { 200: signedInSchema, ...errors(400, 401, 403) },
    },
    handler: async (req, reply) => {
      let who;
      try {
        who = await auth.signIn.verify(req.body, originOf(req));
      } catch (err) {
        throw asHttp(err);
      }
      const token = await auth.store.createSession(who);
      void reply.header('set-cookie', sessionCookie(req, token, SESSION_TTL_MS / 1000));
      const role = (await auth.store.roleOf(who.did, who.address)) ?? 'visitor';
      return { signedIn: true, did: who.did, address: who.address, role };
    },
  });

  app.post('/api/auth/logout', {
    config: pub,
    schema: { summary: 'Sign out (ends this session)', tags: ['auth'], response: { 200: signedInSchema, ...errors(403) } },
    handler: async (req, reply) => {
      const caller = callerOf(req);
      if (caller.session) await auth.store.endSession(caller.session);
      auth.changed();
      void reply.header('set-cookie', sessionCookie(req, '', 0));
      return { signedIn: false, did: null, address: null, role: null };
    },
  });

  app.get('/api/auth/me', {
    config: pub,
    schema: {
      summary: 'Who this request is signed in as, and whether the node still awaits its owner (claimable: the claim code claims it)',
      tags: ['auth'],
      response: {
        200: {
          type: 'object',
          properties: {
            ...signedInSchema.properties,
            via: nstr,
            claimed: { type: 'boolean' },
            claimable: { type: 'boolean' },
            node: nodeSchema,
          },
        },
      },
    },
    handler: async (req) => {
      const caller = callerOf(req);
      const claimed = (await auth.store.owner()) !== undefined;
      return { ...whoami(caller), via: caller.via, claimed, claimable: !claimed, node: auth.node };
    },
  });

  app.post<{ Body: { code?: string } | undefined }>('/api/auth/claim', {
    config: { access: 'signed-in' },
    schema: {
      summary: 'First run: the signed-in user who gives the claim code (`cascade claim-code`, printed by `cascade serve`) becomes the owner',
      tags: ['auth'],
      body: { type: 'object', properties: { code: { type: 'string', maxLength: 100, description: 'the one-time claim code, e.g. "K7QM-3XPD-9HWT-R2FA"' } } },
      response: { 200: signedInSchema, ...errors(401, 403, 409, 429) },
    },
    handler: async (req) => {
      const caller = callerOf(req);
      if (caller.via !== 'session') throw new HttpError(403, 'claim ownership from a signed-in browser (the API token already has owner rights)');
      if ((await auth.store.owner()) !== undefined) throw new HttpError(409, 'this node already has an owner');
      const from = auth.clientAddress(req.raw);
      const wait = claimTries.waitMinutes(from);
      if (wait > 0) throw new HttpError(429, `too many wrong claim codes from ${from}: try again in ${wait} minute${wait === 1 ? '' : 's'}`);
      const code = req.body?.code;
      if (!claimCodeMatches(auth.stateDir, code)) {
        if (code !== undefined && code !== '') claimTries.failed(from);
        throw new HttpError(
          403,
          code === undefined || code === ''
            ? 'the claim code is missing: `cascade serve` printed it, and `cascade claim-code` on the node’s machine shows it'
            : 'that is not this node’s claim code: `cascade claim-code` on the node’s machine shows it',
        );
      }
      if (!(await auth.store.claimOwnership(caller.did ?? caller.address!))) throw new HttpError(409, 'this node already has an owner');
      removeClaimCode(auth.stateDir);
      auth.changed();
      return { ...whoami(caller), role: 'owner' };
    },
  });

  app.get('/api/identity', {
    config: { access: 'signed-in' },
    schema: {
      summary: 'The node’s did:key and Ethereum account, and who is asking',
      tags: ['auth'],
      response: { 200: { type: 'object', properties: { ...nodeSchema.properties, user: signedInSchema } }, ...errors(401) },
    },
    handler: async (req) => ({ ...auth.node, user: whoami(callerOf(req)) }),
  });
}
