// What each command accepts, and the help text made from it. One table: the parser (args.ts) takes
// the options a command declares here (parserOptions), and `cascade help X` / `cascade X --help` list
// exactly those options (optionForms), each spelled as that command's parser reads it, so help cannot
// drift from what the parser accepts.

import { SETTINGS_KEYS } from '@cascade/node/basics';
import { RSS_DETAILS, RSS_USAGE } from '../commands/rss-help.ts';

import { OPTION_DEFS, type OptDef, type OptName } from './spec-options.ts';

export { OPTION_DEFS, type OptDef, type OptName };

/** Every command names the node whose state it works on (the state dir, and --database for a node on PostgreSQL). */
const COMMON: OptName[] = ['json', 'help', 'verbose', 'state-dir', 'database'];
/** Options of every command that runs a BitTorrent node. */
const NODE: OptName[] = [...COMMON, 'port', 'host', 'dht', 'dht-bootstrap', 'tracker', 'utp'];
/** The chain and seeding receipts (issue 13): serve, seed and download. */
const CHAIN: OptName[] = ['chain', 'chain-rpc', 'chain-id', 'chain-contracts', 'chain-signer', 'chain-from', 'receipt-every', 'payment-threshold', 'auto-claim', 'ipfs-api'];
/** The chain a verb means (register, verify, rewards): checked against the running node's; with
 *  no node running, the chain the verb opens itself. */
const CHAIN_OF_NODE: OptName[] = ['chain-rpc', 'chain-id', 'chain-contracts', 'chain-signer', 'chain-from'];
/** Private discovery (issue 14): serve, seed and download. */
const ONION: OptName[] = ['directory', 'private-discovery'];

export interface CommandSpec {
  options: OptName[];
  /** [min, max] positional arguments (max Infinity: any number). */
  positionals: [number, number];
  /** The positionals are one text given in words (search): joined with spaces. */
  joinRest?: boolean;
  usage: string;
  summary: string;
  /** What an option means for this command, when it differs from OPTION_DEFS: the line for the
   *  spelling help shows (--no-X for one on by default). */
  optionHelp?: Partial<Record<OptName, string>>;
  /** Booleans on by default in this command although the parser leaves them unset when not given,
   *  so the command can tell "not given" apart (serve's LSD follows the lsd setting): help shows --no-X. */
  onByDefault?: OptName[];
  /** More lines for help: sub-forms, examples, what happens offline. */
  details?: string;
}

/** How register, verify and rewards reach the chain (issue 44). */
const CHAIN_VERBS =
  'With a node running on --state-dir they go through it (the chain options must name its chain). With none they\n' +
  'open the state directory themselves: its identity, the receipts its runs kept, and its chain (the embedded one,\n' +
  'state in <state-dir>/chain, or --chain-rpc with --chain-contracts, as `seed` and `download` take them).\n' +
  'A transaction is waited for until it is mined, however long: after 5 s a line (--json: a transaction-pending\n' +
  'event) every 10 s says so; Ctrl-C stops the waiting, not the transaction.';
const MANY = 'Several infohashes (or prefixes), or `all`: one bulk operation on the running node, one line per torrent;\nexit 1 when any failed.';
const OFFLINE_DB = 'With no node running it works on the state DB, and the next `cascade serve` uses it.';

export const COMMANDS: Record<string, CommandSpec> = {
  create: {
    options: [...COMMON, 'output', 'announce', 'piece-length', 'private', 'webseed', 'web-seed-from-public-url', 'cdn-url', 'v2', 'hybrid', 'to', 'encrypt'],
    positionals: [1, Infinity],
    usage: 'create <path>... [--v2 | --hybrid] [-o out.torrent] [--announce URL]... [--piece-length BYTES] [--private] [--webseed URL]... [--web-seed-from-public-url [--cdn-url URL]] [--to DID]... | [--encrypt]',
    summary: 'make a .torrent from a file or directory and print its magnet link and each file\'s content id (with --to or --encrypt: a private share, its ciphertext beside the .torrent)',
    optionHelp: { output: 'the .torrent file to write (default <name>.torrent)' },
    details:
      'v1 by default; --v2 or --hybrid make a BitTorrent v2 (BEP 52) torrent, hybrid being readable by v1 clients too\n' +
      '(piece length at least 16 KiB). The same content and piece length give the same infohashes as libtorrent 2.0.\n' +
      'Each file\'s content id is a CIDv1 of its SHA-256, computed in the same pass as the piece hashes.\n' +
      'With --json one line: {"magnet", "infoHash" (v1 hex or null), "infoHashV2" (64 hex or null), "files": [{"path", "length", "cid"}]}.',
  },
  seed: {
    options: [...NODE, 'dir', 'storage', 's3-endpoint', 'ice-server', 'lsd', 'super-seed', ...CHAIN, ...ONION],
    positionals: [1, 1],
    usage: 'seed <torrent-file> (--dir <save-path> | --storage s3://bucket/path [--s3-endpoint URL]) [--port N] [--super-seed]',
    summary: 'verify existing data and seed it until interrupted',
    optionHelp: {
      dir: 'the directory holding the data (the folder containing <name>)',
      storage: 'the data is in a bucket instead, at s3://bucket/path/<name>/… (put there by anyone): checked by ranged GETs, then seeded from it; nothing there is written or deleted',
    },
    details:
      'Once the data checks out, its files\' content ids are computed (at idle time) and the torrent is published on\n' +
      'the DHT with the same signed records `serve` publishes (a `published` event; again every 30 minutes while it\n' +
      'runs; never for a private torrent or with --private-discovery), so `download <content id>` and `search` find it.',
  },
  download: {
    options: [...NODE, 'output', 'dir', 'peer', 'mirror', 'ipfs-gateway', 'sha256', 'seed', 'timeout', 'ice-server', 'lsd', ...CHAIN, ...ONION],
    positionals: [1, 1],
    usage: 'download <id> -o <dir> [--mirror URL]... [--ipfs-gateway URL]... [--sha256 HEX] [--peer host:port]... [--seed] [--timeout SECONDS] [--private-discovery --directory URL]',
    summary: 'download a torrent or a file, exit when complete (or keep seeding with --seed)',
    details:
      '<id> is a magnet link (v1, v2 or hybrid), a .torrent file or its http(s) URL, a v1 (40 hex) or v2 (64 hex)\n' +
      'infohash, a content id (bafkrei…), or an http(s):// or ftp:// URL of a plain file. A torrent draws from the\n' +
      'swarm, its web seeds and every --mirror at once; a plain file from its URL and every --mirror at once,\n' +
      'checked against --sha256 (or the content id) at the end. A content id with --mirror is fetched from the\n' +
      'mirrors and checked against itself. A content id, or a UnixFS CID (bafybei…), with --ipfs-gateway is also\n' +
      'asked of those IPFS gateways, beside the swarm, every block checked (docs/storage/ipfs.md). --json\n' +
      'progress lists the bytes each source gave.',
    optionHelp: { output: 'the download directory (default: the current one)', dir: 'the same as -o' },
  },
  serve: {
    options: [...NODE, 'cluster-url', 'redis', 'http-port', 'download-dir', 'storage', 's3-endpoint', 'tracker-port', 'tracker-host', 'allowed-host', 'allow-private-urls', 'public-url', 'ice-server', 'port-mapping', 'lsd', 'metrics-token', 'trusted-proxy', 'llm-url', 'llm-model', 'llm-key', 'llm-gguf', 'llm-threads', 'llm-max-tokens', ...CHAIN, ...ONION, 'relay', 'relay-port'],
    positionals: [0, 0],
    usage: 'serve [--http-port N] [--host ADDR] [--database URL [--cluster-url URL [--redis URL]]] [--download-dir DIR] [--storage s3://bucket/prefix [--s3-endpoint URL]] [--port N] [--tracker-port N] [--tracker-host ADDR] [--allowed-host NAME]... [--trusted-proxy ADDR]... [--allow-private-urls] [--public-url URL] [--port-mapping auto|upnp|natpmp|off] [--no-lsd] [--no-utp] [--metrics-token TOKEN] [--llm-url URL --llm-model NAME [--llm-key KEY] | --llm-gguf FILE [--llm-threads N] [--llm-max-tokens N]] [--no-chain | --chain-rpc URL --chain-contracts FILE [--chain-signer URL [--chain-from ADDRESS]]]',
    summary: 'run the node: every stored torrent, the tracker, and the web UI + API on http://localhost:8080',
    optionHelp: { host: 'bind address of the web UI, API, tracker and BitTorrent listener (default: 127.0.0.1, this machine only, for the first three; :: for BitTorrent, IPv6 and IPv4)' },
    // seed and download run LSD only when asked (a one-shot run, as benchmarks start them, stays off the LAN).
    onByDefault: ['lsd'],
  },
  add: {
    options: [...COMMON, 'save-path', 'output', 'category', 'tag', 'paused', 'peer', 'private-discovery', 'storage'],
    positionals: [1, 1],
    usage: 'add <magnet|torrent-file|infohash> [--save-path DIR] [--category C] [--tag T]... [--paused] [--peer host:port]... [--private-discovery] [--storage s3://bucket/prefix | disk]',
    summary: 'add a torrent to the running node (or queue it for the next serve)',
    optionHelp: { output: 'the same as --save-path' },
    details:
      "Without --save-path the node decides, as for an add in the web UI: the category's save path, else the\n" +
      "node's download directory. The node's own trackers are added the same way.\n" + OFFLINE_DB,
  },
  relay: {
    options: [...COMMON, 'host', 'port', 'directory', 'dht', 'dht-bootstrap', 'exit'],
    positionals: [0, 0],
    usage: 'relay [--host ADDR] [--port N] --directory URL [--state-dir DIR] [--no-exit] [--dht-bootstrap HOST:PORT] [--json]',
    summary: 'run an onion relay only: carries others\' private-discovery circuits and, as an exit, their announces and DHT look-ups',
    optionHelp: {
      host: 'bind address of the relay, also the source of its outgoing links, announces and DHT queries (default 127.0.0.1)',
      port: 'the relay port, TCP cells and WebSocket at /onion (default 0 = any)',
      directory: 'where the relay publishes its signed descriptor: a Cascade tracker\'s base URL (repeatable)',
      'dht-bootstrap': 'the exit\'s DHT bootstrap nodes instead of the public routers',
      dht: 'the exit does no DHT look-ups',
    },
    details: 'The relay\'s identity is the node identity of --state-dir; its onion key is new at each start and rotates every\n6 hours. Exits act for discovery only (announce, scrape, DHT look-up); they are never proxies.',
  },
  list: {
    options: [...COMMON, 'sort', 'order', 'limit', 'state', 'category', 'tag'],
    positionals: [0, 0],
    usage: 'list [--sort FIELD] [--order asc|desc] [--limit N] [--state STATE] [--category C] [--tag T]',
    summary: 'list torrents: state, progress, size, queue position, ratio, category, name',
    optionHelp: { category: 'only torrents in this category ("" = those in none)', tag: 'only torrents with this tag' },
    details: 'With --json each entry has every field of the API\'s torrent list (category, tags, savePath, queuePosition,\nratio, limits, addedAt…).',
  },
  limits: {
    options: [...COMMON, 'down', 'up', 'alt-down', 'alt-up', 'alt'],
    positionals: [0, 1],
    usage: 'limits [--down RATE] [--up RATE] [--alt-down RATE] [--alt-up RATE] [--alt on|off] [infohash]',
    summary: 'show or set speed limits: node-wide, or of one torrent',
    optionHelp: {
      down: 'download limit, e.g. 4MiB, 500k, 1.5M (per second); 0 or none = no limit',
      up: 'upload limit (same forms)',
    },
    details:
      'No option: prints the limits. With an infohash: that torrent\'s own limits (the node-wide ones apply too;\n' +
      'the tighter wins); --alt-down/--alt-up/--alt are node-wide only. The turtle schedule is the\n' +
      'altSpeedSchedule setting (`cascade settings altSpeedSchedule \'{"enabled":true,…}\'`).\n' + OFFLINE_DB,
  },
  queue: {
    options: COMMON,
    positionals: [2, 2],
    usage: 'queue <infohash> up|down|top|bottom',
    summary: 'move a torrent in the download queue (running node)',
  },
  'force-start': {
    options: [...COMMON, 'off'],
    positionals: [1, 1],
    usage: 'force-start <infohash> [--off]',
    summary: 'start a torrent now, past the queue limits (--off: back under the queue)',
  },
  sequential: {
    options: [...COMMON, 'off'],
    positionals: [1, 1],
    usage: 'sequential <infohash> [--off]',
    summary: 'download its pieces in order, each file from its start, to play while it downloads (--off: the normal order); kept across restarts',
  },
  'first-last': {
    options: [...COMMON, 'off'],
    positionals: [1, 1],
    usage: 'first-last <infohash> [--off]',
    summary: "fetch each file's first and last pieces before the rest (--off: the normal order); kept across restarts",
  },
  category: {
    options: [...COMMON, 'save-path'],
    positionals: [0, 3],
    usage: 'category [list] | category add <name> [--save-path DIR] | category remove <name> | category set <infohash> <name|"">',
    summary: 'categories: list, create (with their own save path), remove, or put a torrent in one',
    optionHelp: { 'save-path': "category add: where its torrents are saved (default: the node's download directory)" },
    details: '`category set <infohash> ""` takes the torrent out of its category.\n' + OFFLINE_DB,
  },
  tags: {
    options: COMMON,
    positionals: [0, Infinity],
    usage: 'tags [<infohash> [add|remove <tag>...]]',
    summary: "tags: every tag in use, a torrent's tags, or add/remove some",
    details: OFFLINE_DB,
  },
  move: {
    options: COMMON,
    positionals: [2, 2],
    usage: 'move <infohash> <dir>',
    summary: "move a torrent's data to another directory (running node); it carries on from there",
  },
  settings: {
    options: COMMON,
    positionals: [0, 2],
    usage: 'settings [KEY [VALUE]]',
    summary: "show the node's settings, one of them, or set one",
    details:
      `Keys: ${wrap(SETTINGS_KEYS.join(', '), 'Keys: '.length)}\n` +
      'Rates take 4MiB, 500k or none; true/false; "none" or null clears ratioLimit, seedingTimeLimit, publicUrl;\n' +
      'altSpeedSchedule takes JSON, e.g. \'{"enabled":true,"from":"20:00","to":"08:00","days":[1,2,3,4,5]}\'.\n' + OFFLINE_DB,
  },
  search: {
    options: [...COMMON, 'host', 'port', 'dht', 'dht-bootstrap'],
    positionals: [1, Infinity],
    joinRest: true,
    usage: 'search <words|cid|infohash> [--dht-bootstrap HOST:PORT,…] [--no-dht]',
    summary: 'find torrents by words, content id or infohash: the local library, then the DHT',
    optionHelp: {
      host: 'with no node running: the address its DHT node binds and queries from',
      port: 'with no node running: the UDP port of its DHT node (default 0: any free port)',
      dht: 'with no node running: the library only, no DHT look-up',
      'dht-bootstrap': 'with no node running: join the DHT through these nodes (any Cascade node\'s DHT port) instead of the public routers',
    },
    details:
      "The node's library first, then the signed records of the DHT (docs/dht-records.md), each with\n" +
      'its publisher (did:key) and providers (host:port). --json prints one array of\n' +
      '{infoHash, infoHashV2, name, length, cids, publisher, providers}. With a node running it searches\n' +
      'through that node (and the DHT it has joined). With none, the library in the state directory, then\n' +
      'the DHT, joined for the look-up alone (--dht-bootstrap, or the public routers; --no-dht: the library only).',
  },
  peers: { options: COMMON, positionals: [0, 1], usage: 'peers [infohash]', summary: 'show connected peers' },
  connect: {
    options: COMMON,
    positionals: [2, 2],
    usage: 'connect <infohash> <host:port>',
    summary: 'connect a torrent to a peer',
  },
  health: { options: COMMON, positionals: [0, 0], usage: 'health', summary: 'node status (port, peers, DHT); exit 1 when no node runs' },
  cluster: {
    options: COMMON,
    positionals: [0, 0],
    usage: 'cluster [--json] [--database URL]',
    summary: "the cluster's members (alive, last seen, torrents, free space, rates) and its replicas",
    details:
      'Through the running node; a node not in a cluster lists itself. With no node running and --database (or\n' +
      '$CASCADE_DATABASE_URL), the members as the database has them. --json prints GET /api/cluster\'s object:\n' +
      '{"members": [{"id", "url", "alive", "lastSeen", "torrents", "freeBytes", "downloadRate", "uploadRate", "epoch",\n' +
      '"coordinator", "self"}], "replicas": N}. Exit 1 when no node runs and no --database is given.',
  },
  ask: {
    options: [...COMMON, 'torrent', 'conversation'],
    positionals: [1, Infinity],
    joinRest: true,
    usage: 'ask "<question>" [--torrent HASH] [--conversation ID] [--json]',
    summary: 'ask the help assistant: it checks the running node (and the torrent) and answers from the help entries',
    details:
      'Prints the answer, what the checks found (with the evidence), the help entries it cites and the\n' +
      'steps to take as commands. Needs a running node (`cascade serve`). Nothing leaves this machine\n' +
      'unless the node was started with --llm-url (a --llm-gguf model runs on the node itself).\n' +
      'Example: cascade ask "why is my download stuck at 0%" --torrent 1a2b3c',
  },
  announce: {
    options: COMMON,
    positionals: [0, 1],
    usage: 'announce [infohash]',
    summary: "announce now to the torrents' trackers (and the DHT when it is on)",
  },
  debug: { options: COMMON, positionals: [0, 0], usage: 'debug', summary: 'dump the node state' },
  pause: { options: COMMON, positionals: [1, Infinity], usage: 'pause <infohash>... | pause all', summary: 'pause torrents', details: MANY },
  resume: { options: COMMON, positionals: [1, Infinity], usage: 'resume <infohash>... | resume all', summary: 'resume torrents', details: MANY },
  recheck: {
    options: COMMON,
    positionals: [1, Infinity],
    usage: 'recheck <infohash>... | recheck all',
    summary: "hash a torrent's data on disk again (running node); what fails is downloaded again",
    details: MANY,
  },
  remove: {
    options: [...COMMON, 'delete-data'],
    positionals: [1, Infinity],
    usage: 'remove <infohash>... [--delete-data] | remove all [--delete-data]',
    summary: 'remove torrents (and their data with --delete-data)',
    details: MANY,
  },
  register: {
    options: [...COMMON, ...CHAIN_OF_NODE, 'ipfs-api', 'arweave', 'arweave-wallet'],
    positionals: [1, 1],
    usage: 'register <torrent-file|infohash> [--chain-rpc URL --chain-contracts FILE [--chain-signer URL]] [--ipfs-api URL] [--arweave URL --arweave-wallet FILE]',
    summary: "record the torrent as published by this node's account in the content registry (with its metadata CID)",
    optionHelp: { 'ipfs-api': 'with no node running: pin the metadata block to this Kubo RPC API (a running node pins with its own)' },
    details:
      'The node\'s account signs and pays the gas (with --chain-signer, the node\'s identity signs the registration and the\n' +
      'signer\'s account submits it and pays). A torrent registered to another account is refused with its owner;\n' +
      'one already registered to this node answers with its record and no transaction.\n' +
      'With --arweave and --arweave-wallet the metadata block is also stored on Arweave (again for a registered one\n' +
      'not stored yet); its transaction id is kept in the state directory beside the CID (docs/storage/arweave.md).\n' + CHAIN_VERBS,
  },
  verify: {
    options: [...COMMON, ...CHAIN_OF_NODE, 'arweave'],
    positionals: [1, 1],
    usage: 'verify <infohash> [--chain-rpc URL --chain-contracts FILE] [--arweave URL]',
    summary: "who registered a torrent: owner account (and did), metadata CID, block; exit 1 when not registered",
    details:
      'With a node running on --state-dir it goes through it. With none it opens the state directory\'s chain itself\n' +
      '(the embedded one, state in <state-dir>/chain, or --chain-rpc with --chain-contracts); with --chain-rpc and no\n' +
      'state directory it reads the registry alone (the did, kept in the metadata block, is then unknown).\n' +
      'With --arweave it fetches the metadata block from that Arweave gateway by the transaction id register kept\n' +
      'and checks it is the registered block; a mismatch exits 1.',
  },
  rewards: {
    options: [...COMMON, ...CHAIN_OF_NODE],
    positionals: [0, 1],
    usage: 'rewards | rewards claim [--chain-rpc URL --chain-contracts FILE [--chain-signer URL]]',
    summary: 'seeding rewards: bytes earned in receipts held, claimed, pending, and the token balance; claim submits them',
    details:
      'Downloaders send this node signed receipts for what it seeded to them (`serve`, `seed`, `download --seed`); `rewards\n' +
      'claim` submits every receipt that pays something to the reward pool in batches (nothing new: no transaction,\n' +
      'claimedBytes 0).\n' + CHAIN_VERBS,
  },
  chain: {
    options: [...COMMON, 'chain-rpc', 'key'],
    positionals: [1, 1],
    usage: 'chain deploy --chain-rpc URL --key HEX',
    summary: 'deploy the content registry, token and reward pool on an EVM chain; prints the --chain-contracts JSON',
    details: 'The key pays the gas and receives the token supply, which it moves to the reward pool. Save the output\nto a file and give it to `cascade serve --chain-rpc URL --chain-contracts FILE`.',
  },
  identity: {
    options: COMMON,
    positionals: [0, 2],
    usage: 'identity [--json] | identity export FILE | identity import FILE',
    summary: "the node's identity: its did:key and Ethereum account",
  },
  token: {
    options: [...COMMON, 'rotate'],
    positionals: [0, 0],
    usage: 'token [--rotate] [--json]',
    summary: "the node's API token (Authorization: Bearer …), made on first use; --rotate replaces it",
  },
  'claim-code': {
    options: COMMON,
    positionals: [0, 0],
    usage: 'claim-code [--state-dir DIR] [--json]',
    summary: 'the one-time code that claims a fresh node as its owner (the web page asks for it); no node needed',
    details: 'Only whoever can read the state dir (or the console of `cascade serve`) has it; the claim spends it.\nOn a claimed node it says who the owner is and exits 1.',
  },
  users: {
    options: [...COMMON, 'role'],
    positionals: [0, 2],
    usage: 'users [list] | users add <did:key:…|0x…> [--role admin|member|viewer] | users remove <did:key:…|0x…> | users transfer-owner <did:key:…|0x…> | users reset-owner',
    summary: 'who may use the node: its owner, admins, members and viewers',
    details:
      'transfer-owner makes someone else the owner; the owner before stays on as an admin. reset-owner is the\n' +
      'recovery for whoever holds the machine: the owner is removed and a new claim code printed (through the\n' +
      'running node when there is one). docs/identity.md has what each role may do.',
  },
  db: {
    options: COMMON,
    positionals: [1, 1],
    usage: 'db copy --state-dir DIR --database postgres://user:password@host:port/database',
    summary: "move a node's state from its SQLite file into PostgreSQL (then `serve --database URL` runs on it)",
    optionHelp: { database: 'the PostgreSQL database to copy into: it must hold no cascade state yet (default $CASCADE_DATABASE_URL)' },
    details:
      'Copies every table of <state-dir>/cascade.db (torrents with their resume data, settings, categories, tags,\n' +
      'users and sessions, RSS, receipts, content ids, private-share keys, ledgers, the node key) into the\n' +
      'database, in one transaction, and prints each table\'s row count. It refuses a database that already\n' +
      'holds rows, and refuses while a node runs on the state dir (stop it first: its state would move on).\n' +
      "The API token (<state-dir>/api-token) and the chat relay's messages (chat.db) come along. The state dir\n" +
      'keeps the downloads and the embedded chain: serve with both options.\n' +
      'The SQLite file is left as it was.',
  },
  rss: {
    options: [...COMMON, 'interval', 'max-items', 'must-contain', 'must-not-contain', 'regex', 'episode', 'smart', 'feed', 'category', 'save-path', 'tag', 'paused'],
    positionals: [0, 3],
    usage: RSS_USAGE,
    summary: 'RSS feeds and download rules: feeds read on a schedule, matching items added, matches recorded',
    optionHelp: { category: 'rss rule: category of what the rule adds', 'save-path': 'rss rule: where what the rule adds is saved', tag: 'rss rule: tag what it adds (repeatable)', paused: 'rss rule: add them paused' },
    details: RSS_DETAILS,
  },
  market: {
    options: [...COMMON, 'price', 'token', 'royalty', 'deadline'],
    positionals: [0, 2],
    usage: 'market [list] | market sell <share> --price N [--token SEED|ETH|ADDRESS] [--royalty PCT] [--deadline TIME] | market buy <listing> | market orders | market refund <order> | market deliver | market delist <listing>',
    summary: 'sell and buy access to private shares on the chain: escrow, key delivery by the seller\'s node, refunds',
    details:
      'On the running node (`cascade serve`), with its chain\'s market contract. `sell` lists a private share this node can\n' +
      'open (refused otherwise); `buy` pays the price into escrow; the seller\'s node delivers the key sealed to the\n' +
      'buyer by itself (`deliver` does it once, for a node that was offline) and the buyer\'s node opens the share and\n' +
      'downloads it from whoever seeds it; after the deadline with nothing delivered, `refund` returns the price.\n' +
      'What protects each side, and what a contract cannot prove: docs/market.md.',
  },
  help: { options: COMMON, positionals: [0, 1], usage: 'help [command]', summary: 'show help (also `cascade <command> --help`)' },
};

/** Words wrapped at 100 columns, later lines indented by `indent`. */
function wrap(text: string, indent: number): string {
  const lines = [''];
  for (const word of text.split(' ')) {
    if (lines.at(-1)!.length + word.length + indent > 100) lines.push('');
    lines[lines.length - 1] += (lines.at(-1) === '' ? '' : ' ') + word;
  }
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** `cascade tracker` is its own program with its own parser (@cascade/tracker); listed, not parsed here. */
export const TRACKER_SUMMARY = 'run a BitTorrent tracker (HTTP, UDP, WebSocket; public or private)';

/** A boolean on by default in this command: its help shows how to turn it off. */
export function onByDefault(spec: CommandSpec, name: OptName): boolean {
  return OPTION_DEFS[name].default === true || (spec.onByDefault?.includes(name) ?? false);
}

/** What parseArgs takes for a command: its options' kinds, short names and defaults. */
export function parserOptions(spec: CommandSpec): Record<string, Pick<OptDef, 'type' | 'short' | 'multiple' | 'default'>> {
  const config: Record<string, Pick<OptDef, 'type' | 'short' | 'multiple' | 'default'>> = {};
  for (const name of spec.options) {
    const { type, short, multiple, default: def } = OPTION_DEFS[name];
    config[name] = { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}), ...(def !== undefined ? { default: def } : {}) };
  }
  return config;
}

export interface OptionForm {
  name: OptName;
  /** As help shows it: `-o, --output PATH`, `--no-lsd`. */
  flag: string;
  text: string;
}

/** Each option of a command as its help shows it: one on by default is spelled the way one turns
 *  it off, with the line saying what that does. */
export function optionForms(spec: CommandSpec): OptionForm[] {
  // The command's own options first; the ones every command takes after them.
  const ordered = [...spec.options.filter((n) => !COMMON.includes(n)), ...spec.options.filter((n) => COMMON.includes(n))];
  return ordered.map((name) => {
    const d = OPTION_DEFS[name];
    const on = onByDefault(spec, name);
    if (on && d.type !== 'boolean') throw new Error(`--${name} is not a boolean: it cannot be on by default`);
    const text = spec.optionHelp?.[name] ?? (on ? d.off : d.help);
    if (text === undefined) throw new Error(`--${name} is on by default: OPTION_DEFS must say what --no-${name} does`);
    const long = on ? `--no-${name}` : `--${name}${d.arg ? ` ${d.arg}` : ''}`;
    return { name, flag: d.short && !on ? `-${d.short}, ${long}` : long, text };
  });
}

function optionLines(spec: CommandSpec): string[] {
  const rows = optionForms(spec);
  const width = Math.min(30, Math.max(...rows.map((r) => r.flag.length)));
  return rows.map(({ flag, text }) => (flag.length > width ? `  ${flag}\n  ${''.padEnd(width)}  ${text}` : `  ${flag.padEnd(width)}  ${text}`));
}

export function usageText(command?: string): string {
  const spec = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (spec) {
    const details = spec.details ? `\n\n${spec.details}` : '';
    return `usage: cascade ${spec.usage}\n\n${spec.summary}${details}\n\noptions:\n${optionLines(spec).join('\n')}`;
  }
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`);
  lines.push(`  ${'tracker'.padEnd(width)}  ${TRACKER_SUMMARY}`);
  const common = optionLines({ options: COMMON, positionals: [0, 0], usage: '', summary: '' });
  return `usage: cascade <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `options every command takes:\n${common.join('\n')}\n\n` +
    'run `cascade help <command>` (or `cascade <command> --help`) for its options';
}
