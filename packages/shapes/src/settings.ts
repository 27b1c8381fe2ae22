// The node's settings (GET/PATCH /api/settings, `cascade settings`), categories, and the ICE server
// shape the node, the engine, the tracker and the chat relay hand to WebRTC.

/** A STUN/TURN server, as RTCIceServer has it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** An ICE server as the node's settings store it: its URLs always a list. */
export interface IceServerSetting extends IceServer {
  urls: string[];
}

export interface AltSpeedSchedule {
  enabled: boolean;
  /** "HH:MM", local time of the node; from > to spans midnight. */
  from: string;
  to: string;
  /** Days it applies on, 0 = Sunday. */
  days: number[];
}

export type SeedingLimitAction = 'pause' | 'remove';

export type PortMappingSetting = 'auto' | 'upnp' | 'natpmp' | 'off';

export interface Settings {
  /** Node-wide limits, bytes/s, 0 = none. */
  downloadLimit: number;
  uploadLimit: number;
  /** The alternative ("turtle") limits, in force while altSpeedEnabled. */
  altDownloadLimit: number;
  altUploadLimit: number;
  altSpeedEnabled: boolean;
  altSpeedSchedule: AltSpeedSchedule;
  /** Queue: how many may run at once (0 = no limit). */
  maxActiveDownloads: number;
  maxActiveUploads: number;
  maxActiveTorrents: number;
  /** Torrents whose data is hashed at once (checks and rechecks; the rest wait their turn); 0 = no limit. */
  maxActiveChecks: number;
  /** Seconds without data after which a download leaves its queue slot (0 = never). */
  stalledTimeout: number;
  /** Seeding goals for torrents without their own; null = none. */
  ratioLimit: number | null;
  /** Seconds; null = none. */
  seedingTimeLimit: number | null;
  seedingLimitAction: SeedingLimitAction;
  /** Where adds save when neither the add nor its category names a place. */
  downloadDir: string;
  /** The node's address as others reach it ("https://cascade.example.org"); its /announce goes in new
   *  torrents and magnets instead of the built-in tracker's local address. null = not set. */
  publicUrl: string | null;
  /** New torrents start paused. */
  startPaused: boolean;
  /** STUN/TURN servers for the node's WebRTC peers and its web UI ([] = the default). */
  iceServers: IceServerSetting[];
  /** Port mapping on the gateway for `serve`: auto tries UPnP IGD, then PCP, then NAT-PMP. */
  portMapping: PortMappingSetting;
  /** BEP 14 local service discovery for `serve`: torrents announced to, and peers found on, the
   *  LAN by multicast (`serve --no-lsd` turns it off for one run). */
  lsd: boolean;
  /** Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For / Forwarded name the client:
   *  for the claim, chat budgets and tracker rate limits. [] = none (`serve --trusted-proxy`). */
  trustedProxies: string[];
  /** A cluster's members that hold each torrent (issue 42); null = 2 with two or more members alive,
   *  else 1. A node that is not in a cluster holds everything once, whatever this says. */
  replicas: number | null;
}

export interface Category {
  name: string;
  /** Absolute; null = the node's download dir. */
  savePath: string | null;
}
