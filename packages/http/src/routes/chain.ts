// The chain over HTTP (issue 13), for the web app: a torrent's registration (who owns it, and
// whether the metadata block describes this very infohash), registering one, the node's seeding
// rewards and claiming them. The same handlers as the control RPCs `cascade register`, `verify`,
// `rewards` and `rewards claim` use (@cascade/rewards' chain-service.ts), so both say the same things.
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { errors, infoHashParams } from '../schemas/api.ts';
import { findTorrent } from './lookup.ts';

const registration = {
  type: 'object',
  properties: {
    registered: { type: 'boolean' },
    infoHash: { type: 'string' },
    owner: { type: 'string', description: 'the registering Ethereum account' },
    did: { type: ['string', 'null'], description: 'the owner’s did, from the metadata block when this node holds it' },
    metadataCid: { type: 'string' },
    block: { type: 'integer' },
    matches: { type: ['boolean', 'null'], description: 'the metadata block names this infohash (null: block not held here)' },
    ours: { type: 'boolean', description: 'registered by this node’s account' },
    tx: { type: ['string', 'null'] },
  },
} as const;

const rewards = {
  type: 'object',
  properties: {
    earnedBytes: { type: 'integer' },
    claimedBytes: { type: 'integer' },
    pendingBytes: { type: 'integer' },
    balance: { type: 'string', description: 'token base units' },
    account: { type: 'string' },
    rewardPerByte: { type: 'string' },
    receipts: { type: 'integer' },
  },
} as const;

const claim = {
  type: 'object',
  properties: {
    tx: { type: ['string', 'null'] },
    claimedBytes: { type: 'integer' },
    skipped: { type: 'array', items: { type: 'object', properties: { infoHash: { type: 'string' }, downloader: { type: 'string' }, reason: { type: 'string' } } } },
  },
} as const;

export function chainRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const rpc = ctx.chainRpc;
  if (!rpc) return;
  const account = async () => {
    const s = await ctx.chain?.status();
    return s?.state === 'running' ? s.account.toLowerCase() : undefined;
  };

  app.get<{ Params: { infoHash: string } }>('/api/torrents/:infoHash/registration', {
    config: { access: 'viewer' },
    schema: { summary: 'Who registered this torrent in the content registry ({registered: false} when nobody)', tags: ['chain'], params: infoHashParams, response: { 200: registration, ...errors(404, 409) } },
    handler: async (req) => {
      const { infoHash } = findTorrent(ctx, req.params.infoHash);
      try {
        const r = (await rpc.verify!({ infoHash })) as { owner: string };
        return { registered: true, ...r, ours: r.owner.toLowerCase() === (await account()) };
      } catch (err) {
        if (/is not registered/.test((err as Error).message)) return { registered: false, infoHash };
        throw err;
      }
    },
  });

  app.post<{ Params: { infoHash: string } }>('/api/torrents/:infoHash/register', {
    config: { access: 'owner' },
    schema: { summary: 'Register this torrent for the node’s account (with its metadata block); refused when another account owns it', tags: ['chain'], params: infoHashParams, response: { 200: registration, ...errors(404, 409) } },
    handler: async (req) => {
      const { infoHash } = findTorrent(ctx, req.params.infoHash);
      const r = await rpc.register!({ infoHash });
      ctx.changed();
      return { registered: true, ...(r as object), ours: true };
    },
  });

  app.get('/api/rewards', {
    config: { access: 'viewer' },
    schema: { summary: 'Seeding rewards: bytes in receipts held, claimed, pending; the token balance', tags: ['chain'], response: { 200: rewards, ...errors(409) } },
    handler: async () => rpc.rewards!({}),
  });

  app.post('/api/rewards/claim', {
    config: { access: 'member' },
    schema: { summary: 'Submit the receipts held to the reward pool (no transaction when nothing is new)', tags: ['chain'], response: { 200: claim, ...errors(409) } },
    handler: async () => rpc['rewards.claim']!({}),
  });
}
