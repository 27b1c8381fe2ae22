// JSON schemas of the node model's routes: settings, categories, tags, the torrent patch, add
// options and the list query (see schemas.ts for how Fastify uses them). The model checks every
// value again (the control RPC has no schema), so these say what a field is more than they police it.

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;

const rate = (what: string) => ({ type: 'integer', minimum: 0, description: `${what}, bytes/s; 0 = no limit` }) as const;

const scheduleSchema = {
  type: 'object',
  description: 'when the alternative limits switch on by themselves',
  properties: {
    enabled: bool,
    from: { type: 'string', description: '"HH:MM", local time' },
    to: { type: 'string', description: '"HH:MM"; earlier than from = past midnight' },
    days: { type: 'array', maxItems: 7, items: { type: 'integer', minimum: 0, maximum: 6 }, description: '0 = Sunday' },
  },
} as const;

const settingsProperties = {
  downloadLimit: rate('node-wide download limit'),
  uploadLimit: rate('node-wide upload limit'),
  altDownloadLimit: rate('alternative ("turtle") download limit'),
  altUploadLimit: rate('alternative ("turtle") upload limit'),
  altSpeedEnabled: { type: 'boolean', description: 'the alternative limits are in force' },
  altSpeedSchedule: scheduleSchema,
  maxActiveDownloads: { type: 'integer', minimum: 0, description: 'downloads running at once; 0 = no limit' },
  maxActiveUploads: { type: 'integer', minimum: 0, description: 'torrents seeding at once; 0 = no limit' },
  maxActiveTorrents: { type: 'integer', minimum: 0, description: 'torrents running at once; 0 = no limit' },
  maxActiveChecks: { type: 'integer', minimum: 0, description: 'torrents whose data is hashed at once (checks, rechecks); the rest wait their turn as checking; 0 = no limit' },
  stalledTimeout: { type: 'integer', minimum: 0, description: 'seconds without data before a download leaves its slot; 0 = never' },
  ratioLimit: { type: ['number', 'null'], description: 'seed until this ratio, then seedingLimitAction; null = no goal' },
  seedingTimeLimit: { type: ['integer', 'null'], description: 'seconds of seeding, then seedingLimitAction; null = no goal' },
  seedingLimitAction: { type: 'string', enum: ['pause', 'remove'] },
  downloadDir: { type: 'string', description: 'absolute path; where adds save unless they (or their category) say otherwise' },
  publicUrl: {
    type: ['string', 'null'],
    description: 'how others reach this node ("https://cascade.example.org"): <publicUrl>/announce and its ws(s) form go in new torrents and magnets',
  },
  startPaused: { type: 'boolean', description: 'new torrents start paused' },
  iceServers: {
    type: 'array',
    description: 'STUN/TURN servers for WebRTC (RTCIceServer objects); [] = the default',
    items: {
      type: 'object',
      properties: {
        urls: { type: 'array', items: { type: 'string' }, description: 'stun:host:port, turn:host:port?transport=tcp, turns:…' },
        username: { type: 'string' },
        credential: { type: 'string' },
      },
    },
  },
  trustedProxies: {
    type: 'array',
    maxItems: 100,
    items: { type: 'string' },
    description: 'reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For / Forwarded name the client: for the claim, chat budgets and tracker rate limits; [] = none',
  },
  replicas: {
    type: ['integer', 'null'],
    minimum: 1,
    description: "a cluster's members that hold each torrent (GET /api/cluster); null = 2 with two or more members alive, else 1",
  },
  lsd: { type: 'boolean', description: 'BEP 14 local service discovery for `cascade serve`: announce torrents on the LAN by multicast and dial the peers heard there (serve --no-lsd: off for one run)' },
  portMapping: {
    type: 'string',
    enum: ['auto', 'upnp', 'natpmp', 'off'],
    description: 'port mapping on the gateway for `cascade serve`: auto (UPnP, then PCP, then NAT-PMP), upnp, natpmp or off',
  },
} as const;

export const settingsSchema = {
  $id: 'Settings',
  type: 'object',
  properties: settingsProperties,
} as const;

/** PATCH: any subset. Unknown keys reach the model, which names them in a 400. */
export const settingsPatchBody = {
  type: 'object',
  properties: settingsProperties,
} as const;

export const categorySchema = {
  $id: 'Category',
  type: 'object',
  properties: { name: str, savePath: { type: ['string', 'null'], description: 'null = the download dir' } },
} as const;

export const categoryBody = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    savePath: { type: ['string', 'null'], maxLength: 1024 },
  },
} as const;

export const categoryPatchBody = {
  type: 'object',
  required: ['savePath'],
  properties: { savePath: { type: ['string', 'null'], maxLength: 1024 } },
} as const;

export const categoryParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const tagsProperty = { type: 'array', maxItems: 1000, items: { type: 'string' }, description: 'at most 64 tags of 1-64 characters, no commas' } as const;

export const torrentPatchBody = {
  type: 'object',
  properties: {
    downloadLimit: rate('this torrent’s download limit'),
    uploadLimit: rate('this torrent’s upload limit'),
    category: { type: ['string', 'null'], description: 'an existing category (409 otherwise); null = none' },
    tags: tagsProperty,
    ratioLimit: { type: ['number', 'null'], description: 'null = the global setting; -1 = no limit for this torrent' },
    seedingTimeLimit: { type: ['integer', 'null'], description: 'seconds; null = the global setting; -1 = no limit' },
    savePath: { type: 'string', description: 'moves the data there (absolute, or relative to the download dir)' },
    forceStart: { type: 'boolean', description: 'runs past the queue' },
    superSeeding: { type: 'boolean', description: 'super-seeding (BEP 16) while it holds every piece: each peer is shown one or two of the rarest pieces at a time and served only those (docs/swarm.md); kept across restarts' },
    sequential: { type: 'boolean', description: 'pieces in order, each wanted file from its start; kept across restarts' },
    firstLastPiece: { type: 'boolean', description: 'each wanted file’s first and last pieces first; kept across restarts' },
    privateDiscovery: { type: 'boolean', description: 'announce and look up only through onion circuits (the node needs --directory)' },
  },
} as const;

/** The per-torrent fields every list entry and detail carries (listing.ts). */
export const entryModelProperties = {
  category: { type: ['string', 'null'] },
  tags: { type: 'array', items: str },
  queuePosition: { type: ['integer', 'null'], description: '1-based among torrents not complete; null for complete ones' },
  downloadLimit: rate('its own download limit'),
  uploadLimit: rate('its own upload limit'),
  ratioLimit: { type: ['number', 'null'], description: 'null = the global setting; -1 = none' },
  seedingTimeLimit: { type: ['integer', 'null'], description: 'seconds; null = the global setting; -1 = none' },
  forceStart: bool,
  superSeeding: { type: 'boolean', description: 'super-seeding (BEP 16) is on' },
  ratio: { type: 'number', description: 'uploaded / downloaded over every run (or / bytes verified when more)' },
  seedingTime: { type: 'integer', description: 'seconds spent seeding, over every run' },
  seedingTimeOrigin: { type: ['number', 'null'], description: 'while seeding: ms since epoch its seeding time counts from (seeding time now = (now − this) / 1000); null when not seeding' },
  totalDownloaded: { type: 'integer', description: 'bytes received over every run' },
  totalUploaded: { type: 'integer', description: 'bytes sent over every run' },
  addedAt: { type: ['number', 'null'], description: 'ms since epoch' },
  completedAt: { type: ['number', 'null'], description: 'ms since epoch' },
  tracker: { type: ['string', 'null'], description: 'the host of its first tracker' },
  encrypted: { type: 'boolean', description: 'a private share (issue 24): its content is encrypted for its recipients or its link' },
  decryptable: { type: 'boolean', description: 'this node can read it (always true when not encrypted); when false, `error` says why' },
  missingFiles: {
    type: 'array', items: { type: 'string' },
    description: 'paused or queued and not checked since the node started, with files gone that it had data in (a drive not mounted, files deleted or moved by hand): their paths, and `error` says so (qBittorrent: missingFiles). Absent otherwise; its start or a recheck checks the data',
  },
  checkWaiting: { type: 'boolean', enum: [true], description: 'state `checking` and waiting its turn to hash its data (settings.maxActiveChecks torrents are checked at once); Transmission: status 1, queued for verification. Absent otherwise' },
} as const;

/** Add options shared by the JSON body and the multipart fields. */
export const addOptionProperties = {
  savePath: { type: 'string', maxLength: 1024, description: 'where to save; default: the category’s save path, else the download dir' },
  category: { type: 'string', maxLength: 64, description: 'an existing category' },
  tags: tagsProperty,
  paused: { type: 'boolean', description: 'add without starting (default: settings.startPaused)' },
  privateDiscovery: {
    type: 'boolean',
    description: 'announce and look up the DHT only through onion circuits (the node needs --directory); default: the node’s --private-discovery',
  },
  storage: {
    type: 'string',
    maxLength: 1100,
    description: 'where its data goes (issue 61): s3://bucket/prefix (the node’s --s3-endpoint and credentials), or "disk"; default: the node’s --storage, else the disk',
  },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    category: { type: 'string', maxLength: 64, description: 'only this category ("" = uncategorised)' },
    tag: { type: 'string', maxLength: 64, description: 'only torrents with this tag' },
    state: {
      type: 'string',
      description: 'an entry state (metadata, checking, downloading, seeding, paused, queued, error), or active, inactive, completed, stalled',
    },
    tracker: { type: 'string', maxLength: 300, description: 'only torrents whose first tracker is on this host' },
    search: { type: 'string', maxLength: 300, description: 'name contains (any case), or infohash starts with' },
    sort: { type: 'string', description: 'any entry field (size = length); ties by infoHash' },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
    offset: { type: 'integer', minimum: 0, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 100000, description: 'at most this many entries (total still counts all)' },
  },
} as const;

export const modelSchemas = [settingsSchema, categorySchema];
