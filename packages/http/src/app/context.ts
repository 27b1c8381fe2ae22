// What the HTTP routes share: the node and the server's settings. One object, built by startServer,
// so routes stay plain functions that tests can also drive against a fake session.

import type { CascadeNode } from '@cascade/node';
import type { AuthContext } from '../auth/context.ts';
import type { RssService } from '@cascade/rss';
import type { ChainHealth } from '@cascade/rewards';
import type { RpcHandlers } from '@cascade/node';

export interface ApiContext {
  node: CascadeNode;
  /** The node's chat, once attached (after the app is built): the people a user talks with there. */
  chat?: { contactsOf?: (did: string) => Promise<{ did: string; name: string | null }[]> };
  /** The node's chain: its state for /api/health and the Network page. */
  chain?: { status(): Promise<ChainHealth>; blockBytes(cid: string): Promise<Uint8Array | undefined> };
  /** The chain's control RPCs (register, verify, rewards, rewards.claim), for routes/chain.ts. */
  chainRpc?: RpcHandlers;
  /** The market's control RPCs (market.*), for routes/market.ts (app/market.ts). */
  marketRpc?: Record<string, (p: Record<string, unknown>) => Promise<unknown>>;
  /** Sign-in, sessions, members and the request gate. */
  auth: AuthContext;
  /** Where uploads and added torrents are saved. */
  downloadDir: string;
  /** Most bytes one upload request may carry. */
  maxUploadBytes: number;
  /** How long a streaming response waits for a missing piece. */
  streamWaitMs: number;
  /** Whether added URLs may reach loopback, private and link-local addresses. */
  allowPrivateUrls: boolean;
  /** Tracker URLs for torrents created from uploads: the node's own tracker, then configured ones. */
  announceUrls(): string[];
  /** Whether the library has loaded and whether the server is stopping, for /api/health/ready
   *  (absent: a test's app with nothing to wait for). */
  readiness?(): { libraryLoaded: boolean; stopping: boolean };
  /** Ports and URLs for /api/health. */
  endpoints(): {
    http: number;
    tracker?: { http: string; udp: string; ws?: string | undefined; httpPort: number; udpPort: number } | undefined;
  };
  /** The built-in tracker believes the X-Forwarded-For of this one connection (the web port's
   *  WebSocket forwarder); returns the undo. Undefined without a tracker. */
  trustForwarder?: (address: string, port: number) => () => void;
  /** The BitTorrent listener's bind address (for the reachability hint). */
  bittorrentHost: string;
  /** The address the HTTP API listens on (`--host`): a cluster member's requests to the others (a
   *  stream proxied from a holder) leave from it when it is a concrete address, as its engine's
   *  connections do, so its traffic comes from the address the others know it by. */
  httpHost?: string;
  /** Feeds, download rules and their matches (@cascade/rss). */
  rss: RssService;
  /** Tells the live feed something changed, so clients hear now rather than on the next tick. */
  changed(): void;
}
