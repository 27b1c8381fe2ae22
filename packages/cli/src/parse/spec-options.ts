// Every option the CLI knows, with its kind and its help line (spec.ts says which command takes which).

export type OptName =
  | 'json' | 'help' | 'verbose' | 'state-dir' | 'database' | 'cluster-url' | 'redis' | 'port' | 'host' | 'dht' | 'dht-bootstrap' | 'tracker' | 'utp'
  | 'output' | 'dir' | 'announce' | 'piece-length' | 'private' | 'webseed' | 'web-seed-from-public-url' | 'cdn-url' | 'mirror' | 'ipfs-gateway' | 'sha256' | 'peer' | 'seed' | 'super-seed'
  | 'timeout' | 'delete-data' | 'paused' | 'http-port' | 'download-dir' | 'tracker-port' | 'tracker-host' | 'allowed-host' | 'allow-private-urls' | 'public-url' | 'ice-server' | 'port-mapping' | 'lsd' | 'metrics-token' | 'trusted-proxy'
  | 'rotate' | 'role'
  | 'save-path' | 'category' | 'tag' | 'down' | 'up' | 'alt-down' | 'alt-up'
  | 'sort' | 'order' | 'limit' | 'state' | 'off' | 'alt'
  | 'chain' | 'chain-rpc' | 'chain-id' | 'chain-contracts' | 'chain-signer' | 'chain-from' | 'key' | 'receipt-every' | 'payment-threshold' | 'auto-claim' | 'ipfs-api' | 'arweave' | 'arweave-wallet'
  | 'torrent' | 'conversation' | 'llm-url' | 'llm-model' | 'llm-key' | 'llm-gguf' | 'llm-threads' | 'llm-max-tokens'
  | 'to' | 'encrypt' | 'v2' | 'hybrid'
  | 'storage' | 's3-endpoint'
  | 'directory' | 'private-discovery' | 'relay' | 'relay-port' | 'exit'
  | 'interval' | 'must-contain' | 'must-not-contain' | 'regex' | 'episode' | 'smart' | 'feed' | 'max-items'
  | 'price' | 'token' | 'royalty' | 'deadline';

export interface OptDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** On unless turned off: the parser's default, and help shows the option as --no-X with `off`. */
  default?: boolean;
  /** Placeholder of its value in help ("DIR"). */
  arg?: string;
  /** One line for help: what --X does; a command may say it differently (CommandSpec.optionHelp). */
  help: string;
  /** A boolean that is on by default (here, or in a command's CommandSpec.onByDefault): what --no-X
   *  does, the line help shows for it there. */
  off?: string;
}

export const OPTION_DEFS: Record<OptName, OptDef> = {
  json: { type: 'boolean', help: 'machine-readable output: one JSON object per line' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
  verbose: { type: 'boolean', help: "on an error, also print what the library underneath said (its whole message and causes) after the one-line error" },
  'state-dir': { type: 'string', arg: 'DIR', help: "the node's state directory (default $CASCADE_HOME or ~/.cascade)" },
  database: {
    type: 'string',
    arg: 'URL',
    help: "keep the node's state (library, settings, users, sign-in sessions, the API token, RSS, receipts, keys…) in this PostgreSQL database, postgres://user:password@host/db, instead of <state-dir>/cascade.db (default $CASCADE_DATABASE_URL); downloads and the other files stay in --state-dir",
  },
  'cluster-url': {
    type: 'string',
    arg: 'URL',
    help: "run as a member of a cluster on --database (PostgreSQL): this member's HTTP address as the other members reach it, http://address:port; members share the library, users and settings, each with its own ports and data dir (docs/cluster.md); its member id is its node key's did, kept in <state-dir>/member-id",
  },
  redis: {
    type: 'string',
    arg: 'URL',
    help: "with --cluster-url: the cluster's Redis, redis://[user:password@]host:port[/db] (or rediss://), for the members' change fan-out (default $CASCADE_REDIS_URL)",
  },
  port: { type: 'string', short: 'p', arg: 'N', help: 'BitTorrent listen port (default 6881, 0 = any free port)' },
  host: { type: 'string', arg: 'ADDR', help: 'BitTorrent bind address; also where outgoing connections, tracker requests and DHT queries leave from' },
  dht: { type: 'boolean', default: true, help: 'find peers on the DHT too', off: 'run without the DHT (trackers and given peers only)' },
  utp: {
    type: 'boolean',
    default: true,
    help: 'BitTorrent over uTP too',
    off: 'BitTorrent over TCP only, without uTP (BEP 29: over UDP on the same port number, with LEDBAT congestion control that yields to other traffic); on by default',
  },
  'dht-bootstrap': { type: 'string', multiple: true, arg: 'HOST:PORT,…', help: 'DHT bootstrap nodes instead of the public routers' },
  tracker: { type: 'string', multiple: true, arg: 'URL', help: 'an extra tracker for every torrent (repeatable)' },
  output: { type: 'string', short: 'o', arg: 'PATH', help: 'where the output goes' },
  dir: { type: 'string', short: 'd', arg: 'DIR', help: 'the data directory' },
  announce: { type: 'string', short: 'a', multiple: true, arg: 'URL', help: 'tracker announce URL (repeatable; first = primary)' },
  'piece-length': { type: 'string', arg: 'SIZE', help: 'piece size, e.g. 256KiB (default: chosen from the total size)' },
  private: { type: 'boolean', help: 'mark the torrent private (trackers only: no DHT, no PEX)' },
  webseed: { type: 'string', multiple: true, arg: 'URL', help: 'web seed URL (BEP 19, repeatable)' },
  'web-seed-from-public-url': { type: 'boolean', help: "add the node's own address as a web seed (BEP 19): <--cdn-url or the node's public URL>/webseed/<infohash>/, where the node serves the torrent's files to anyone, cacheable by a CDN" },
  'cdn-url': { type: 'string', arg: 'URL', help: 'the address of a CDN or caching proxy in front of the node (its public URL otherwise): the web seed added by --web-seed-from-public-url, which it implies' },
  mirror: {
    type: 'string',
    multiple: true,
    arg: 'URL',
    help: "another place with the same bytes, http(s):// or ftp:// (repeatable): fetched from in parallel with the swarm or the URL; a torrent's mirror is its file's URL (multi-file: a folder URL ending in /)",
  },
  sha256: { type: 'string', arg: 'HEX', help: 'the SHA-256 a plain file (an http(s)/ftp URL) must have; a mismatch keeps nothing' },
  'ipfs-gateway': {
    type: 'string',
    multiple: true,
    arg: 'URL',
    help: 'an IPFS trustless gateway (http(s)://, repeatable) asked for a content id or UnixFS CID beside the swarm: a CAR, every block checked against its CID; a gateway that gives a wrong or missing block is dropped and the next one asked',
  },
  to: { type: 'string', multiple: true, arg: 'DID', help: 'a private share only this did:key (and the others given) can read (repeatable)' },
  encrypt: { type: 'boolean', help: 'a private share for anyone with its link (the key is in the link\'s #k= fragment)' },
  v2: { type: 'boolean', help: 'a BitTorrent v2 torrent only (BEP 52: SHA-256 merkle trees; v1-only clients cannot join)' },
  hybrid: { type: 'boolean', help: 'a hybrid torrent: v1 and v2 at once (BEP 52), joinable by v1-only and v2 clients alike' },
  peer: { type: 'string', multiple: true, arg: 'HOST:PORT', help: 'connect to this peer (repeatable; kept across restarts)' },
  seed: { type: 'boolean', help: 'keep seeding once complete (until Ctrl-C)' },
  'super-seed': { type: 'boolean', help: 'super-seeding (BEP 16), for a first seed: peers are shown one or two of the rarest pieces at a time and served only those, so each byte it uploads is one the swarm lacks (docs/swarm.md)' },
  timeout: { type: 'string', arg: 'SECONDS', help: 'give up after this long without any progress' },
  'delete-data': { type: 'boolean', help: "also delete the torrent's downloaded files" },
  paused: { type: 'boolean', help: 'add it paused (start it later with `cascade resume`)' },
  'http-port': { type: 'string', arg: 'N', help: 'web UI + API port (default 8080, 0 = any)' },
  'download-dir': { type: 'string', arg: 'DIR', help: 'where torrents are saved by default (default <state-dir>/downloads)' },
  'tracker-port': { type: 'string', arg: 'N', help: 'built-in tracker port, HTTP and UDP (default 6969, 0 = any)' },
  'tracker-host': { type: 'string', arg: 'ADDR', help: 'built-in tracker bind address (default: the BitTorrent one, :: unless --host)' },
  storage: {
    type: 'string',
    arg: 'URL',
    help: "keep torrents' data in an S3-compatible bucket, s3://bucket/prefix, instead of the download directory (pieces staged there, whole files uploaded); credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION or AWS_PROFILE (docs/storage/s3.md); \"disk\" for the download directory",
  },
  's3-endpoint': { type: 'string', arg: 'URL', help: 'the S3-compatible store for --storage s3://… (MinIO, R2, Ceph radosgw…), addressed path-style; default: AWS' },
  'allowed-host': { type: 'string', multiple: true, arg: 'NAME', help: 'a domain name the UI is reached by (IPs and localhost always work)' },
  'allow-private-urls': { type: 'boolean', help: 'added .torrent URLs may point at this machine or the LAN' },
  'trusted-proxy': {
    type: 'string',
    multiple: true,
    arg: 'ADDR',
    help: 'a reverse proxy (address or CIDR range) whose X-Forwarded-For / Forwarded names the client, for the claim, chat budgets and tracker rate limits; $CASCADE_TRUSTED_PROXY (comma-separated) does the same',
  },
  rotate: { type: 'boolean', help: 'make a new API token; the old one stops working at once (the running node too)' },
  role: { type: 'string', arg: 'ROLE', help: 'users add: admin, member (the default) or viewer (read-only, for dashboards); only the owner makes admins' },
  lsd: {
    type: 'boolean',
    help: 'find peers on the LAN by local service discovery (BEP 14 multicast) too; off by default for this command',
    off: 'no local service discovery (BEP 14: torrents announced to, and peers found on, the LAN by multicast); on by default (the lsd setting)',
  },
  'port-mapping': {
    type: 'string',
    arg: 'MODE',
    help: 'map the BitTorrent and DHT ports on the gateway: auto (UPnP, then PCP, then NAT-PMP; the default), upnp, natpmp or off (kept as the portMapping setting)',
  },
  'ice-server': {
    type: 'string',
    multiple: true,
    arg: 'URL',
    help: 'a STUN/TURN server for WebRTC (repeatable): stun:host:port, turn:user:pass@host:port[?transport=tcp], turns:… (kept as the iceServers setting)',
  },
  'public-url': {
    type: 'string',
    arg: 'URL',
    help: 'how others reach the built-in tracker (https://your.host): new torrents and magnets announce to URL/announce (kept as the publicUrl setting)',
  },
  'metrics-token': {
    type: 'string',
    arg: 'TOKEN',
    help: 'a token that may read GET /metrics and nothing else (Prometheus); $CASCADE_METRICS_TOKEN does the same without showing it in `ps`',
  },
  'save-path': { type: 'string', arg: 'DIR', help: "where the data goes (default: the category's save path, else the node's download directory)" },
  category: { type: 'string', arg: 'NAME', help: 'put it in this category' },
  tag: { type: 'string', multiple: true, arg: 'TAG', help: 'give it this tag (repeatable)' },
  down: { type: 'string', arg: 'SIZE', help: 'download limit per second, e.g. 4MiB, 500k, 1.5M; 0 or none = no limit' },
  up: { type: 'string', arg: 'SIZE', help: 'upload limit per second (same forms)' },
  'alt-down': { type: 'string', arg: 'SIZE', help: 'alternative ("turtle") download limit per second' },
  'alt-up': { type: 'string', arg: 'SIZE', help: 'alternative ("turtle") upload limit per second' },
  sort: { type: 'string', arg: 'FIELD', help: 'sort by an entry field: name, size, progress, state, downloadSpeed, uploadSpeed, eta, ratio, addedAt, category, queuePosition…' },
  order: { type: 'string', arg: 'asc|desc', help: 'sort order (default asc)' },
  limit: { type: 'string', arg: 'N', help: 'show at most N torrents' },
  state: { type: 'string', arg: 'STATE', help: 'only torrents in this state, or a group: active, inactive, completed, stalled' },
  interval: { type: 'string', arg: 'MIN', help: "rss add: minutes between reads of this feed (default: the node's, 30); rss settings: the node's" },
  'max-items': { type: 'string', arg: 'N', help: 'rss settings: items kept per feed (default 200)' },
  'must-contain': { type: 'string', arg: 'WORDS', help: 'rss rule: words the title must have ("|" = or; with --regex a regular expression)' },
  'must-not-contain': { type: 'string', arg: 'WORDS', help: 'rss rule: words the title must not have' },
  regex: { type: 'boolean', help: 'rss rule: the must(-not)-contain texts are regular expressions' },
  episode: { type: 'string', arg: 'FILTER', help: 'rss rule: episode filter, e.g. "1x2;8-15;30-;" or S01E05-S01E10' },
  smart: { type: 'boolean', help: 'rss rule: smart episode filter (each episode once)' },
  feed: { type: 'string', multiple: true, arg: 'ID', help: 'rss rule: read only this feed (repeatable; default every feed)' },
  off: { type: 'boolean', help: 'turn it off again' },
  torrent: { type: 'string', short: 't', arg: 'HASH', help: 'ask about this torrent (infohash or a unique prefix): its checks run first' },
  conversation: { type: 'string', arg: 'ID', help: 'ask: follow up in this conversation (the id a previous answer printed): "and now?" re-runs its checks' },
  'llm-url': {
    type: 'string',
    arg: 'URL',
    help: 'an OpenAI-compatible endpoint the assistant writes answers with (llama.cpp server, Ollama, LM Studio: http://127.0.0.1:8080/v1); questions and node state then go there',
  },
  'llm-model': { type: 'string', arg: 'NAME', help: 'the model name to ask at --llm-url' },
  'llm-key': { type: 'string', arg: 'KEY', help: 'the API key for --llm-url; $CASCADE_LLM_KEY does the same without showing it in `ps`' },
  'llm-gguf': {
    type: 'string',
    arg: 'FILE',
    help: 'a local GGUF model the assistant writes answers with, in this process (node-llama-cpp: `npm run install:llm` installs its CPU build); nothing leaves the machine',
  },
  'llm-threads': { type: 'string', arg: 'N', help: 'CPU threads for --llm-gguf (default: the cores this machine has; more only makes each token slower)' },
  'llm-max-tokens': { type: 'string', arg: 'N', help: 'longest answer --llm-gguf writes, in tokens (default 400)' },
  chain: {
    type: 'boolean',
    default: true,
    help: 'run a chain: the embedded dev chain, or --chain-rpc',
    off: 'run without a chain (no ownership records, no rewards); by default the node runs its own dev chain (anvil, state in <state-dir>/chain)',
  },
  'chain-rpc': { type: 'string', arg: 'URL', help: 'an EVM chain\'s JSON-RPC endpoint to use instead of the embedded chain (with --chain-contracts); the node signs with its identity\'s account, which pays gas unless --chain-signer does' },
  'chain-id': { type: 'string', arg: 'N', help: 'the chain id --chain-rpc must have (default: the one in --chain-contracts)' },
  'chain-contracts': { type: 'string', arg: 'FILE', help: 'the contracts on --chain-rpc: the JSON `cascade chain deploy` prints ({"chainId", "registry", "rewards", "token"})' },
  'chain-signer': {
    type: 'string',
    arg: 'URL',
    help: 'an external signer (a JSON-RPC endpoint answering eth_sendTransaction: geth with Clef, a wallet bridge, a node with an unlocked account) whose account sends the node\'s transactions and pays their gas, with --chain-rpc; the identity still owns registrations (relayed, signed by it) and receives rewards',
  },
  'chain-from': { type: 'string', arg: 'ADDRESS', help: 'the --chain-signer account that pays (default: the first of its eth_accounts)' },
  'ipfs-api': { type: 'string', arg: 'URL', help: 'a Kubo RPC API (e.g. http://127.0.0.1:5001) to pin the metadata blocks of torrents this node registers to' },
  arweave: { type: 'string', arg: 'URL', help: 'an Arweave gateway (e.g. https://arweave.net): register also stores the metadata block there; verify fetches it back and checks it' },
  'arweave-wallet': { type: 'string', arg: 'FILE', help: 'the Arweave wallet (a JWK key file) that signs and pays for the transaction storing the metadata block' },
  'receipt-every': { type: 'string', arg: 'SIZE', help: 'as a downloader, sign each verified Cascade seeder a receipt every SIZE of verified data from it (default 1m; at most one a second, each stating the total so far), and at the end' },
  'payment-threshold': { type: 'string', arg: 'SIZE', help: 'as a seeder, print a payment-required event each time the unclaimed bytes in receipts pass another SIZE (default 64m)' },
  'auto-claim': { type: 'string', arg: 'SIZE', help: 'as a seeder, claim the receipts by itself once SIZE of them are unclaimed (default: only `cascade rewards claim`)' },
  key: { type: 'string', arg: 'HEX', help: 'chain deploy: the funded private key that deploys (0x + 64 hex digits); $CASCADE_CHAIN_KEY does the same without showing it in `ps`' },
  alt: { type: 'string', arg: 'on|off', help: 'switch the alternative ("turtle") limits on or off' },
  directory: { type: 'string', multiple: true, arg: 'URL', help: 'an onion relay directory: a Cascade tracker\'s base URL, e.g. http://127.0.0.1:6969 (repeatable)' },
  'private-discovery': {
    type: 'boolean',
    help: 'announce and look up the DHT only through 3-hop onion circuits (needs --directory): trackers and DHT nodes see an exit, never this machine; data still flows directly',
  },
  relay: { type: 'boolean', help: 'also run an onion relay (and discovery exit) for others, published to --directory' },
  'relay-port': { type: 'string', arg: 'N', help: 'the relay\'s port, TCP and WebSocket (default 0 = any)' },
  exit: { type: 'boolean', default: true, help: 'act as a discovery exit too', off: 'relay cells only, never act as the discovery exit' },
  price: { type: 'string', arg: 'N', help: 'market sell: the price in tokens (5, 0.25)' },
  token: { type: 'string', arg: 'SEED|ETH|ADDRESS', help: 'market sell: what the price is paid in: the node\'s SEED token (default), ether, or an ERC-20 at ADDRESS' },
  royalty: { type: 'string', arg: 'PCT', help: 'market sell: the share of each sale paid to the content\'s registered owner (5%, 250bps; default none)' },
  deadline: { type: 'string', arg: 'TIME', help: 'market sell: how long the seller has to deliver the key after a purchase before the buyer may take a refund (90s, 30m, 1h, 2d; default 1h)' },
};
