// GET /api/health: is the node up, how connected is it, and on which ports does it listen.
// Public, but only its reachability part and the built-in tracker's URLs (a visitor's in-tab peer
// announces there): the rest (torrent and peer counts, ids, paths) is the node's private state,
// for members and the token.

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../app/context.ts';
import { dhtPortOf } from '@cascade/node';
import { healthSchema } from '../schemas/api.ts';
import { countTransports } from '@cascade/node/features';
import { reachabilityOf } from '@cascade/node-network';
import { callerMay } from '../auth/hook.ts';
import { publicAnnounceUrls } from '@cascade/node/features';
import { publicIceServers } from '@cascade/node/features';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { node } = ctx;
  app.get('/api/health', {
    config: { access: 'public' },
    schema: {
      summary: 'Node status: peers, DHT, reachability and listening ports',
      tags: ['node'],
      response: { 200: healthSchema },
    },
    handler: async (req) => {
      const h = node.session.health();
      const peers = node.session.list().flatMap((t) => t.peers());
      const incoming = peers.filter((p) => p.source === 'incoming').length;
      const status = reachabilityOf(ctx.bittorrentHost, incoming);
      const ep = ctx.endpoints();
      // With a public URL, that is where others (and in-page peers of remote visitors) reach the tracker.
      const pub = node.model.getSettings().publicUrl;
      const shown = pub ? publicAnnounceUrls(pub) : undefined;
      const tracker = ep.tracker ? { http: shown?.http ?? ep.tracker.http, udp: ep.tracker.udp, ws: shown?.ws ?? ep.tracker.ws ?? null } : null;
      const reachability = { status, incomingPeers: incoming, bittorrentHost: ctx.bittorrentHost };
      // Where a visitor's tab finds onion relays for its own private discovery (public: directories are).
      const privateDiscovery = node.onion ? { directories: node.onion.status().directories } : null;
      // Members and stronger roles (admins, the owner, the API token); a viewer sees the public part.
      const member = callerMay(req, 'member');
      // What the web UI's in-tab peer uses (absent: the browser's default). TURN secrets are the
      // node's own: members only.
      const ice = node.iceServers();
      const webrtc = ice.length > 0 ? { iceServers: member ? ice : publicIceServers(ice) } : undefined;
      if (!member) {
        return { ok: true, version: VERSION, reachability, bittorrentPort: node.session.port, ports: { http: ep.http, bittorrent: node.session.port }, tracker, privateDiscovery, ...(webrtc ? { webrtc } : {}) };
      }
      return {
        ok: true,
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - node.startedAt) / 1000),
        torrents: h.torrents,
        peers: h.peers,
        peersByTransport: countTransports(peers),
        dhtEnabled: h.dhtEnabled,
        dhtNodes: h.dhtNodes,
        // BEP 14 local service discovery: on or off, its families, and its messages and peers so far.
        lsd: node.session.localDiscovery ? { ...node.session.localDiscovery(), ...node.session.counters?.().lsd } : null,
        reachability,
        bittorrentPort: node.session.port,
        ports: {
          http: ep.http,
          bittorrent: node.session.port,
          dht: dhtPortOf(node.session) ?? null,
          trackerHttp: ep.tracker?.httpPort ?? null,
          trackerUdp: ep.tracker?.udpPort ?? null,
          control: node.control?.port ?? null,
        },
        tracker,
        peerId: node.session.peerIdHex,
        nodeId: node.db.identity.publicKeyHex,
        stateDir: node.db.stateDir,
        downloadDir: ctx.downloadDir,
        publicUrl: pub,
        shareWarning: node.model.shareWarning(ctx.announceUrls()),
        chain: ctx.chain ? await ctx.chain.status() : { state: 'off' },
        onion: node.onion?.status() ?? null,
        privateDiscovery,
        ...(webrtc ? { webrtc } : {}),
      };
    },
  });
}
