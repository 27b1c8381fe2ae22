// GET /api/health: is the node up, how connected is it, and on which ports does it listen.

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { dhtPortOf } from '../node.ts';
import { healthSchema } from '../schemas.ts';
import { countTransports } from '../torrent-view.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { node } = ctx;
  app.get('/api/health', {
    schema: {
      summary: 'Node status: peers, DHT, reachability and listening ports',
      tags: ['node'],
      response: { 200: healthSchema },
    },
    handler: async () => {
      const h = node.session.health();
      const peers = node.session.list().flatMap((t) => t.peers());
      const incoming = peers.filter((p) => p.source === 'incoming').length;
      const local = /^(127\.|::1$|localhost$)/.test(ctx.bittorrentHost);
      // Someone dialled us, so the port is reachable from somewhere; otherwise we cannot tell
      // (no one may have tried yet).
      const status = local ? 'local-only' : incoming > 0 ? 'reachable' : 'unknown';
      const ep = ctx.endpoints();
      return {
        ok: true,
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - node.startedAt) / 1000),
        torrents: h.torrents,
        peers: h.peers,
        peersByTransport: countTransports(peers),
        dhtEnabled: h.dhtEnabled,
        dhtNodes: h.dhtNodes,
        reachability: { status, incomingPeers: incoming, bittorrentHost: ctx.bittorrentHost },
        bittorrentPort: node.session.port,
        ports: {
          http: ep.http,
          bittorrent: node.session.port,
          dht: dhtPortOf(node.session) ?? null,
          trackerHttp: ep.tracker?.httpPort ?? null,
          trackerUdp: ep.tracker?.udpPort ?? null,
          control: node.control?.port ?? null,
        },
        tracker: ep.tracker ? { http: ep.tracker.http, udp: ep.tracker.udp, ws: ep.tracker.ws ?? null } : null,
        peerId: node.session.peerIdHex,
        nodeId: node.db.identity.publicKeyHex,
        stateDir: node.db.stateDir,
        downloadDir: ctx.downloadDir,
      };
    },
  });
}
