// JSON schemas of the HTTP API. Fastify validates requests against them (a mismatch is a 400 with
// the failing field named), serializes responses through them, and @fastify/swagger turns them into
// the OpenAPI document at /api/docs. Response schemas list every field: undeclared ones are dropped.

import { addOptionProperties, entryModelProperties } from './model.ts';

const str = { type: 'string' } as const;
const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;
const nullable = (type: string) => ({ type: [type, 'null'] }) as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every 4xx/5xx answer',
  properties: { statusCode: int, error: str, message: str },
  required: ['statusCode', 'error', 'message'],
} as const;

const errorRef = { $ref: 'Error#' } as const;
/** The error responses a route can give, for the docs. */
export function errors(...codes: number[]): Record<number, typeof errorRef> {
  return Object.fromEntries(codes.map((c) => [c, errorRef]));
}

export const infoHashParams = {
  type: 'object',
  required: ['infoHash'],
  properties: {
    infoHash: { type: 'string', pattern: '^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$', description: 'the torrent’s infohash: 40 hex digits (v1, or a v2-only torrent’s truncated id), or its 64-hex v2 infohash' },
  },
} as const;

export const fileParams = {
  type: 'object',
  required: ['infoHash', 'index'],
  properties: {
    ...infoHashParams.properties,
    index: { type: 'integer', minimum: 0, description: 'file index, as in the torrent detail’s `files`' },
  },
} as const;

const transportCounts = {
  type: 'object',
  description: 'connected peers per transport',
  properties: { tcp: int, webrtc: int, webseed: int },
  additionalProperties: int,
} as const;

const listEntryProperties = {
  infoHash: { ...str, description: 'the torrent’s id: its v1 infohash, or a v2-only torrent’s truncated v2 infohash (BEP 52)' },
  infoHashV2: { type: ['string', 'null'], description: 'BEP 52: the v2 infohash (64 hex) of a v2 or hybrid torrent; null for v1 or before the metadata' },
  name: nullable('string'),
  state: { type: 'string', description: 'metadata | checking | downloading | seeding | paused | queued | error (or the stored status when not loaded)' },
  progress: { type: ['number', 'null'], description: '0..1 of the selected pieces; null before metadata' },
  verifiedPieces: int,
  pieceCount: nullable('integer'),
  length: nullable('integer'),
  downloadSpeed: { type: 'number', description: 'bytes/second' },
  uploadSpeed: { type: 'number', description: 'bytes/second' },
  eta: { type: ['number', 'null'], description: 'seconds; null when unknown' },
  peers: int,
  seeds: int,
  downloaded: { type: 'integer', description: 'bytes received since the node started' },
  uploaded: { type: 'integer', description: 'bytes sent since the node started' },
  savePath: nullable('string'),
  live: { type: 'boolean', description: 'false for a stored torrent the node has not loaded' },
  error: nullable('string'),
  ...entryModelProperties,
} as const;

export const listEntrySchema = {
  $id: 'TorrentSummary',
  type: 'object',
  properties: listEntryProperties,
} as const;

export const peerSchema = {
  $id: 'Peer',
  type: 'object',
  properties: {
    address: str,
    client: nullable('string'),
    transport: { type: 'string', description: 'tcp | webrtc | webseed' },
    relayed: { type: 'boolean', description: 'true when this WebRTC connection passes through a TURN relay (either side’s selected ICE candidate is a relay)' },
    downloaded: int,
    uploaded: int,
    downloadSpeed: num,
    uploadSpeed: num,
    progress: num,
    choked: { type: 'boolean', description: 'the peer chokes us: we may not request from it' },
    interested: { type: 'boolean', description: 'the peer wants pieces we have' },
    amChoking: { type: 'boolean', description: 'we choke the peer: it may not request from us' },
    amInterested: { type: 'boolean', description: 'we want pieces the peer has' },
    optimistic: { type: 'boolean', description: 'it holds our optimistic unchoke (rotated among choked peers)' },
    source: { type: 'string', description: 'how we found it: tracker, dht, pex, incoming, manual' },
    incoming: { type: 'boolean', description: 'it dialled us' },
    encryption: { type: 'string', enum: ['rc4', 'handshake'], description: 'MSE on the connection: the whole stream (rc4) or the handshake only; absent: plaintext' },
    snubbed: { type: 'boolean', description: 'it unchokes us yet left a request of ours unanswered for long, sending nothing' },
    relevance: { type: 'number', description: 'of the pieces we lack, the share it has (0..1)' },
    downloadingFiles: { type: 'array', items: int, description: 'file indices of the piece we are downloading from it now' },
    peerId: { type: 'string', description: 'its peer id, hex' },
    did: { type: 'string', description: 'the did:key this peer proved through the Cascade wire extension (absent: not verified)' },
    account: { type: 'string', description: 'its Ethereum account, bound to the did (absent: not verified)' },
    reputation: { type: 'number', description: "this node's reputation of that identity, 0..1, from what it verified itself (absent: not verified)" },
    claimedReputation: { type: 'number', description: 'the reputation the peer claims for itself, 0..1 (shown, never trusted)' },
  },
} as const;

export const trackerSchema = {
  $id: 'Tracker',
  type: 'object',
  properties: {
    url: str,
    tier: int,
    status: { type: 'string', enum: ['idle', 'working', 'ok', 'error'] },
    message: str,
    peers: int,
    lastAnnounce: { type: 'number', description: 'ms since epoch' },
    lastReplyAt: { type: 'number', description: 'when it last answered, ms since epoch' },
    lastError: { type: 'string', description: 'its last failure (kept after a later success)' },
    lastErrorAt: { type: 'number', description: 'ms since epoch' },
    failures: { type: 'integer', description: 'announces that failed in a row since its last answer' },
    failingSince: { type: 'number', description: 'when the first of those failures happened, ms since epoch' },
  },
} as const;

export const fileSchema = {
  $id: 'TorrentFile',
  type: 'object',
  properties: {
    index: int,
    path: str,
    length: int,
    progress: num,
    selected: bool,
    cid: { type: ['string', 'null'], description: 'content id (CIDv1, raw, sha2-256) of the file, once the node holds it complete' },
    unixfsCid: { type: ['string', 'null'], description: 'the UnixFS CID @helia/unixfs gives the file by default (CIDv1, raw leaves, 1 MiB chunks, balanced, 1,024 links): what IPFS fetches it by; the same as cid for a file of one chunk' },
  },
} as const;

export const detailSchema = {
  $id: 'TorrentDetail',
  type: 'object',
  properties: {
    ...listEntryProperties,
    magnet: str,
    version: { type: ['string', 'null'], enum: ['v1', 'v2', 'hybrid', null], description: 'BitTorrent v1, v2 (BEP 52) or hybrid (both); null before the metadata' },
    pieceLength: nullable('integer'),
    peersByTransport: transportCounts,
    distributedCopies: { type: ['number', 'null'], description: 'distributed copies among the connected peers: whole copies every piece has, plus the share of pieces held by one more; null without metadata' },
    peerList: { type: 'array', items: { $ref: 'Peer#' } },
    sources: {
      type: 'array',
      description: 'bytes each source gave this run, most first: peers by address (kept after they leave), web seeds and mirrors by URL; banned = sent data that failed its hash check',
      items: {
        type: 'object',
        properties: { address: str, kind: { type: 'string', enum: ['peer', 'webseed'] }, downloaded: int, banned: bool },
        required: ['address', 'kind', 'downloaded', 'banned'],
      },
    },
    trackers: { type: 'array', items: { $ref: 'Tracker#' } },
    files: { type: ['array', 'null'], items: { $ref: 'TorrentFile#' }, description: 'null until metadata is known' },
    unixfsCid: { type: ['string', 'null'], description: 'a multi-file torrent\'s folder as a UnixFS directory, once every file has its UnixFS CID: /ipfs/<it>/<path> reaches each file' },
    storage: {
      type: ['object', 'null'],
      description: 'where its data lives when not on the node\'s disk (issue 61): an S3 bucket (s3://bucket/prefix) and the store\'s host, never credentials; null: the disk',
      properties: { kind: { type: 'string', enum: ['s3'] }, url: str, bucket: str, prefix: str, endpoint: str },
    },
    shareWarning: { type: ['string', 'null'], description: 'why this torrent’s magnet cannot lead others here (its trackers are all on this machine while the node is reachable from elsewhere); null when fine' },
    discovery: {
      type: ['object', 'null'],
      description: 'what the torrent did to find peers: trackers (with last reply/error), the DHT, the last 20 peers tried and how each attempt ended; null when not loaded',
      properties: {
        trackers: { type: 'array', items: { $ref: 'Tracker#' } },
        dht: {
          type: 'object',
          properties: { enabled: bool, nodes: int, lookups: int, peersFound: int, lastLookupAt: nullable('number') },
        },
        lsd: {
          type: 'object',
          description: 'BEP 14 local service discovery: whether the torrent is announced on the LAN, and the peers heard there',
          properties: { enabled: bool, peersFound: int },
        },
        peersTried: {
          type: 'array',
          items: { type: 'object', properties: { address: str, source: str, result: str, at: num } },
        },
      },
    },
    stalledReason: {
      type: ['string', 'null'],
      description: 'after ~30 s waiting for metadata: what was tried and what answered, in plain words; null otherwise',
    },
    privateDiscovery: { type: 'boolean', description: 'announces and DHT look-ups go through onion circuits only (PATCH it to switch)' },
    privateDiscoveryAvailable: { type: 'boolean', description: 'the node can do private discovery (it was started with --directory)' },
    sequential: { type: 'boolean', description: 'pieces in order, each wanted file from its start (PATCH it to switch)' },
    firstLastPiece: { type: 'boolean', description: 'each wanted file’s first and last pieces first (PATCH it to switch)' },
    holders: {
      type: 'array',
      description: 'the members holding a copy (issue 42; a node not in a cluster: itself), read from the state; not in the feed’s events',
      items: {
        type: 'object',
        properties: {
          member: { type: 'string', description: 'the member’s id (did:key)' },
          progress: { type: 'number', description: 'verified pieces over pieces on its disk, 0-1' },
          state: { type: 'string', description: 'queued | downloading | seeding | paused | error, there' },
          alive: { type: 'boolean', description: 'its member is alive and the copy counts toward replicas' },
          url: { type: ['string', 'null'], description: 'the member’s --cluster-url; null on a node not in a cluster' },
          error: { type: ['string', 'null'], description: 'with state error: why the copy stopped there (a full disk: ENOSPC); such a copy does not count toward replicas. Else null' },
          savePath: { type: ['string', 'null'], description: 'where its copy is on that member’s disk; null while placed and not taken yet' },
          moveTo: { type: ['string', 'null'], description: 'a save path moved through another member, not moved to there yet; null: none' },
          moveError: { type: ['string', 'null'], description: 'why the last move asked of this holder failed there; null: it did not' },
        },
        required: ['member', 'progress', 'state', 'alive', 'url', 'error', 'savePath', 'moveTo', 'moveError'],
      },
    },
  },
} as const;

export const addJsonBody = {
  type: 'object',
  required: ['uri'],
  additionalProperties: false,
  properties: {
    uri: {
      type: 'string',
      minLength: 1,
      maxLength: 16384,
      description:
        'a magnet link (v1, v2, hybrid), a bare infohash (40 hex / 32 base32, or 64 hex for v2), an http(s) URL of a .torrent, ' +
        'or an http(s):// or ftp:// URL of a plain file (downloaded from it and its mirrors, then shared as a torrent: answered 202 with the download)',
    },
    peers: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 300 }, description: 'extra peers, host:port' },
    mirrors: {
      type: 'array',
      maxItems: 20,
      items: { type: 'string', maxLength: 2048 },
      description: 'other http(s):// or ftp:// URLs of the same bytes: a plain file is fetched from all at once, a torrent draws from them beside the swarm',
    },
    sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: 'the SHA-256 a plain file must have; a mismatch keeps nothing' },
    ...addOptionProperties,
  },
} as const;

export const addMultipartBody = {
  // null too: the multipart parser leaves the body empty (files are streamed); this is for the docs.
  type: ['object', 'null'],
  description:
    'files to share (any field name; several files or a folder make one torrent), or one .torrent in the field `torrent`',
  properties: {
    file: { type: 'string', format: 'binary' },
    torrent: { type: 'string', format: 'binary' },
    savePath: addOptionProperties.savePath,
    category: addOptionProperties.category,
    tags: { type: 'string', description: 'a tag per field (repeat it), or several comma-separated' },
    paused: { type: 'string', description: 'true or false' },
    recipients: { type: 'string', description: 'a private share for this did:key (repeat the field per recipient; before the file)' },
    encrypt: { type: 'string', description: 'true: a private share by link (the answer’s `link` holds the key); before the file' },
    privateDiscovery: { type: 'string', description: 'true: announce and look up only through onion circuits' },
    version: { type: 'string', enum: ['v1', 'v2', 'hybrid'], description: 'files shared: a BitTorrent v1, v2 (BEP 52) or hybrid torrent (default v1)' },
    webSeed: { type: 'string', description: "true: the node's public URL goes in the torrent as a web seed (<publicUrl>/webseed/<infohash>/, BEP 19), for a CDN in front of it; needs the publicUrl setting" },
  },
} as const;

export const addResultSchema = {
  type: 'object',
  properties: {
    infoHash: str,
    infoHashV2: { type: ['string', 'null'], description: 'BEP 52: the v2 infohash (64 hex) of a v2 or hybrid torrent; null for v1 or before the metadata' },
    magnet: str,
    name: nullable('string'),
    existing: { type: 'boolean', description: 'true when the node already had this torrent' },
    encrypted: { type: 'boolean', description: 'a private share was made (recipients or encrypt=true)' },
    link: { type: 'string', description: 'a share by link: the magnet with its key in the fragment (#k=…); `magnet` has no key' },
  },
  required: ['infoHash', 'magnet', 'name'],
} as const;

const plainSourceSchema = {
  type: 'object',
  properties: { url: str, downloaded: int, dropped: str },
  required: ['url', 'downloaded'],
} as const;

export const plainDownloadSchema = {
  type: 'object',
  description: 'a plain file the node downloads from its URL and mirrors at once, then shares as a torrent (infoHash once done)',
  properties: {
    id: str, url: str, mirrors: { type: 'array', items: str }, name: str, savePath: str,
    state: { type: 'string', enum: ['downloading', 'done', 'error'] },
    length: nullable('integer'), downloaded: int, sources: { type: 'array', items: plainSourceSchema },
    sha256: nullable('string'), cid: nullable('string'), infoHash: nullable('string'), error: nullable('string'),
  },
  required: ['id', 'url', 'name', 'state', 'downloaded', 'sources'],
} as const;

export const stateResultSchema = {
  type: 'object',
  properties: { infoHash: str, state: str },
} as const;

export const removeQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { deleteData: { type: 'boolean', default: false } },
} as const;

export const removeResultSchema = {
  type: 'object',
  properties: { infoHash: str, removed: bool, deletedData: bool },
} as const;

export const selectBody = {
  type: 'object',
  required: ['selected'],
  additionalProperties: false,
  properties: {
    selected: {
      type: 'array',
      items: { type: 'integer', minimum: 0 },
      maxItems: 100000,
      description: 'indices of the files to download; the others are skipped',
    },
  },
} as const;

export const selectResultSchema = {
  type: 'object',
  properties: { infoHash: str, selected: { type: 'array', items: int }, files: { type: 'array', items: { $ref: 'TorrentFile#' } } },
} as const;

export const streamQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { download: { type: 'boolean', default: false, description: 'send as an attachment instead of inline' } },
} as const;

export const healthSchema = {
  type: 'object',
  properties: {
    ok: bool,
    version: str,
    uptimeSeconds: int,
    torrents: int,
    peers: int,
    peersByTransport: transportCounts,
    dhtEnabled: bool,
    dhtNodes: int,
    lsd: {
      type: ['object', 'null'],
      description: 'BEP 14 local service discovery: on or off (the lsd setting, serve --no-lsd, CASCADE_LSD), the address families it runs on, why one is missing, messages sent (one per family), received and dropped, peers learned and the hosts they were learned from (each once, the last 16, newest last); members only',
      properties: { enabled: bool, families: { type: 'array', items: int }, error: nullable('string'), sent: int, received: int, dropped: int, peers: int, peerHosts: { type: 'array', items: { type: 'string' } }, peersByHost: { type: 'object', additionalProperties: int } },
    },
    reachability: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['reachable', 'unknown', 'local-only'] },
        incomingPeers: int,
        bittorrentHost: str,
      },
    },
    bittorrentPort: { type: 'integer', description: 'the TCP port peers connect to' },
    ports: {
      type: 'object',
      properties: {
        http: int,
        bittorrent: int,
        dht: nullable('integer'),
        trackerHttp: nullable('integer'),
        trackerUdp: nullable('integer'),
        control: nullable('integer'),
      },
    },
    tracker: {
      type: ['object', 'null'],
      properties: { http: str, udp: str, ws: nullable('string') },
    },
    peerId: str,
    nodeId: str,
    stateDir: str,
    downloadDir: str,
    publicUrl: { type: ['string', 'null'], description: 'the publicUrl setting' },
    shareWarning: { type: ['string', 'null'], description: 'why links this node shares cannot lead others here (loopback-only trackers on a node reachable from elsewhere); null when fine' },
    chain: {
      type: 'object',
      description: "the node's chain: state starting | running | off | error; when running, where it is and the node account's balances (wei and token units, as decimal strings)",
      properties: {
        state: { type: 'string', enum: ['starting', 'running', 'off', 'error'] },
        error: str,
        embedded: bool,
        rpcUrl: str,
        chainId: int,
        block: str,
        contracts: { type: 'object', properties: { registry: str, token: str, pool: str, market: str } },
        account: str,
        balances: { type: 'object', properties: { ether: str, token: str } },
        signer: {
          type: 'object',
          description: 'present with an external signer (--chain-signer): its URL, the account of it that pays gas (null with the error when unknown) and that account\'s wei',
          properties: { url: str, account: { type: ['string', 'null'] }, ether: { type: ['string', 'null'] }, error: str },
        },
      },
    },
    webrtc: {
      type: 'object',
      description: 'the ICE servers in force (the iceServers setting or the node’s options), for the web UI’s in-tab peer; absent = the default. Visitors get the STUN ones only',
      properties: {
        iceServers: {
          type: 'array',
          items: { type: 'object', properties: { urls: { type: 'array', items: str }, username: str, credential: str } },
        },
      },
    },
    privateDiscovery: {
      type: ['object', 'null'],
      description: 'where pages find onion relays for private discovery (the node’s directories); null when the node has none. Public',
      properties: { directories: { type: 'array', items: str } },
    },
    onion: {
      type: ['object', 'null'],
      description: 'private discovery (issue 14): the directories, relays usable now, circuits so far, and this node’s own relay; null when the node has no --directory',
      properties: {
        directories: { type: 'array', items: str },
        privateByDefault: bool,
        relays: { type: 'object', properties: { listed: int, learned: int } },
        circuits: { type: 'object', properties: { built: int, failed: int, closed: int, requests: int } },
        lastError: { type: ['string', 'null'] },
        relay: {
          type: ['object', 'null'],
          properties: { tcp: { type: ['string', 'null'] }, ws: { type: ['string', 'null'] }, exit: bool, circuits: int, tabs: int },
        },
      },
    },
  },
} as const;

/** Shared schemas, registered once with addSchema so routes can $ref them. */
export const sharedSchemas = [errorSchema, listEntrySchema, peerSchema, trackerSchema, fileSchema, detailSchema];
