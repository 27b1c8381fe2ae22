// GET /api/network: how this node is reached — the NAT it sits behind, its external address, the
// gateway's port mapping and the ICE servers in force — and POST /api/network/probe to look again
// now (after plugging in a cable, say). Members only: the external address and TURN credentials are
// the node's own business.
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import type { NetworkStatus } from '@cascade/shapes';

const str = { type: 'string' } as const;
const nullableStr = { type: ['string', 'null'] } as const;
const networkSchema = {
  type: 'object',
  properties: {
    nat: { type: 'string', enum: ['open', 'cone', 'symmetric', 'unknown'], description: 'open: no NAT; cone: hole punching works; symmetric: peers need a relay (TURN); unknown: see reason' },
    externalAddress: { ...nullableStr, description: 'the address STUN servers see (or the gateway reports)' },
    localAddress: { ...nullableStr, description: 'the address the default route uses: what is mapped and announced' },
    portMapping: {
      type: 'object',
      properties: {
        method: { type: ['string', 'null'], enum: ['upnp', 'natpmp', 'pcp', null] },
        externalPort: { type: ['integer', 'null'] },
        externalAddress: nullableStr,
        error: { ...nullableStr, description: 'why there is no mapping (no gateway answered, mapping off…)' },
      },
    },
    iceServers: {
      type: 'array',
      items: { type: 'object', properties: { urls: { type: 'array', items: str }, username: str, credential: str } },
    },
    iceSource: { type: 'string', enum: ['setting', 'trackers', 'none'] },
    relayOnly: { type: 'boolean', description: 'WebRTC uses TURN relay candidates only (behind a symmetric NAT, with a TURN server)' },
    stun: { type: 'object', additionalProperties: str, description: 'STUN server → the address it reported, or the error' },
    reason: nullableStr,
    probedAt: { type: ['integer', 'null'], description: 'ms since the epoch' },
  },
} as const;

export function networkRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const view = (): NetworkStatus => {
    const s = ctx.node.network?.status();
    if (s) return s;
    return {
      nat: 'unknown', externalAddress: null, localAddress: null, iceServers: ctx.node.iceServers(), iceSource: 'setting', relayOnly: false, stun: {}, probedAt: null,
      portMapping: ctx.node.portMapping?.status() ?? { method: null, externalPort: null, error: 'port mapping is off' },
      reason: 'this node does not probe its network',
    };
  };
  app.get('/api/network', {
    schema: { summary: 'How this node is reached: NAT type, external address, port mapping, ICE servers', tags: ['node'], response: { 200: networkSchema } },
    handler: async () => view(),
  });
  app.post('/api/network/probe', {
    schema: { summary: 'Probe the network again now and answer what was found', tags: ['node'], response: { 200: networkSchema } },
    handler: async () => {
      await ctx.node.network?.refresh();
      return view();
    },
  });
}
