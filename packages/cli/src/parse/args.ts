// Command-line parsing. A thin layer over node:util parseArgs: each command declares which options
// it accepts, so a typo like `--pear` is a usage error (exit 2) instead of being silently ignored.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { resolve, join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { parseIceServerUrl, type IceServer } from '@cascade/node/basics';
import { parseRate, parseSize } from '../output/format.ts';
import { COMMANDS, onByDefault, parserOptions, type OptName } from './spec.ts';
import { databaseOption } from './database-option.ts';
import { clusterOption, type ClusterOption } from './cluster-options.ts';
import { chainOption, signerOption, type ChainOption } from './chain-options.ts';
import { httpUrl, parseInteger } from './value-checks.ts';

export interface Options {
  json: boolean;
  help: boolean;
  /** On an error, the library's detail after the one-line message. */
  verbose: boolean;
  /** Absolute path of the node's state directory (DB, control file). */
  stateDir: string;
  /** --database, else $CASCADE_DATABASE_URL: the state in PostgreSQL (issue 42). */
  database: string | undefined;
  /** serve --cluster-url (with --redis / $CASCADE_REDIS_URL): a member of a cluster on --database (issue 42). */
  cluster: ClusterOption;
  port: number;
  host: string | undefined;
  dht: boolean;
  dhtBootstrap: string[];
  trackers: string[];
  /** uTP beside TCP (BEP 29); --no-utp turns it off. */
  utp: boolean;
  /** Private discovery (issue 14): the onion directories and whether adds use them by default;
   *  undefined without --directory. */
  onion: { directories: string[]; byDefault: boolean } | undefined;
  /** --directory, checked: the onion directories (relay: where it publishes). */
  directories: string[];
  /** add: through circuits only (sent to the running node). */
  privateDiscovery: boolean;
  /** serve --relay / cascade relay: relay for others; its port; whether it is an exit. */
  relay: boolean;
  relayPort: number;
  exit: boolean;
  /** -o: the .torrent path for `create`, the download directory for `download`/`add`. */
  output: string | undefined;
  /** --dir: the data directory for `seed` (and an alias of -o for `download`). */
  dir: string | undefined;
  /** --save-path (or -o) for `add`: absolute; undefined = the node decides. */
  savePath: string | undefined;
  category: string | undefined;
  tags: string[];
  /** Rate limits in bytes/s (0 = none); undefined = not given. */
  down: number | undefined;
  up: number | undefined;
  altDown: number | undefined;
  altUp: number | undefined;
  /** limits --alt on|off: the alternative ("turtle") limits in force or not; undefined = not given. */
  alt: boolean | undefined;
  /** list: sort field, order, most rows, state filter. */
  sort: string | undefined;
  order: 'asc' | 'desc';
  limit: number | undefined;
  state: string | undefined;
  off: boolean;
  announce: string[];
  pieceLength: number | undefined;
  private: boolean;
  webseeds: string[];
  /** create --web-seed-from-public-url [--cdn-url URL]: the node's own web seed (issue 61). */
  webSeedFromPublicUrl: boolean;
  cdnUrl: string | undefined;
  /** download: mirrors of the content (http(s) or ftp URLs), drawn from beside the swarm */
  mirrors: string[];
  /** download: IPFS trustless gateways asked for a content id or UnixFS CID beside the swarm (issue 61) */
  ipfsGateways: string[];
  /** download: the SHA-256 a plain file must have (64 hex) */
  sha256: string | undefined;
  /** create: a private share's recipients (did:key) */
  to: string[];
  /** create: a private share by link */
  encrypt: boolean;
  /** create: BitTorrent v2 only (BEP 52) */
  v2: boolean;
  /** create: v1 and v2 in one torrent (BEP 52 hybrid) */
  hybrid: boolean;
  peers: string[];
  seed: boolean;
  /** seed --super-seed: BEP 16 super-seeding. */
  superSeed: boolean;
  /** Seconds without any progress before `download` gives up. */
  timeout: number | undefined;
  deleteData: boolean;
  paused: boolean;
  /** serve: web UI + API port (default 8080, 0 = any). */
  httpPort: number | undefined;
  /** serve: absolute download directory (default <state-dir>/downloads). */
  downloadDir: string | undefined;
  /** serve: port of the built-in tracker, HTTP and UDP (default 6969, 0 = any). */
  trackerPort: number | undefined;
  trackerHost: string | undefined;
  /** serve, add, seed --storage: 's3://bucket/prefix' (or 'disk'): where torrents' data lives (issue 61). */
  storage: string | undefined;
  /** serve, seed --s3-endpoint: an S3-compatible store's URL (MinIO, R2, Ceph, s3rver); omitted: AWS. */
  s3Endpoint: string | undefined;
  /** serve: host names the web UI answers to besides IP addresses and localhost. */
  allowedHosts: string[];
  /** --ice-server (repeatable): serve stores them as the iceServers setting, seed and download use them. */
  iceServers: IceServer[] | undefined;
  /** BEP 14: serve follows the lsd setting unless --lsd/--no-lsd; seed and download run it only with --lsd. */
  lsd: 'setting' | 'on' | 'off';
  /** serve --port-mapping: stored as the portMapping setting; undefined when not given. */
  portMapping: 'auto' | 'upnp' | 'natpmp' | 'off' | undefined;
  /** serve: let added URLs reach loopback, private and link-local addresses. */
  allowPrivateUrls: boolean;
  /** serve: the public URL of the node's tracker (the publicUrl setting); checked by the node. */
  publicUrl: string | undefined;
  /** serve: a token that reads /metrics only (or $CASCADE_METRICS_TOKEN); checked by the node. */
  metricsToken: string | undefined;
  /** serve --trusted-proxy (repeatable), else $CASCADE_TRUSTED_PROXY (comma-separated): reverse
   *  proxies whose forwarded client address the node believes. */
  trustedProxies: string[];
  /** token --rotate. */
  rotate: boolean;
  /** users add --role. */
  role: string | undefined;
  /** ask --torrent: an infohash or prefix (the node resolves it). */
  torrent: string | undefined;
  /** ask: the conversation to follow up in. */
  conversation: string | undefined;
  /** serve: the assistant's OpenAI-compatible endpoint, model and key (or $CASCADE_LLM_KEY). */
  llmUrl: string | undefined;
  llmModel: string | undefined;
  llmKey: string | undefined;
  /** serve --llm-gguf: a local model file (absolute), and its threads and answer length. */
  llmGguf: string | undefined;
  llmThreads: number | undefined;
  llmMaxTokens: number | undefined;
  /** serve, seed, download: false with --no-chain; else the embedded chain, or --chain-rpc with its id and contracts. */
  chain: ChainOption;
  /** serve, seed, download: --receipt-every, --payment-threshold, --auto-claim (bytes). */
  receipts: { everyBytes?: number; paymentThresholdBytes?: number; autoClaimBytes?: number };
  /** serve, seed, download: --ipfs-api URL (Kubo RPC) to pin registered metadata blocks to. */
  ipfsApi: string | undefined;
  /** register, verify: --arweave URL (a gateway) and register's --arweave-wallet FILE (absolute). */
  arweave: { url: string; wallet?: string } | undefined;
}

export interface Invocation {
  command: string;
  positionals: string[];
  options: Options;
  /** The parsed option values by name, for commands that read their own (rss). */
  values: Record<string, string | boolean | string[] | undefined>;
}

export { COMMANDS, usageText } from './spec.ts';

export const DEFAULT_PORT = 6881;

export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return env.CASCADE_HOME ? resolve(env.CASCADE_HOME) : join(homedir(), '.cascade');
}

/** Global options may come before the command (`cascade --json list`); move them after it. */
function splitCommand(argv: string[]): { command: string | undefined; rest: string[] } {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const a = argv[i]!;
    if (a === '--json' || a === '--help' || a === '-h' || a === '--verbose' || a.startsWith('--state-dir=')) {
      leading.push(a);
      i++;
    } else if (a === '--state-dir') {
      if (i + 1 >= argv.length) throw new UsageError('--state-dir needs a directory');
      leading.push(a, argv[i + 1]!);
      i += 2;
    } else {
      throw new UsageError(`unknown option ${a} before the command`);
    }
  }
  const command = argv[i];
  if (command === undefined) {
    return { command: leading.some((a) => a === '--help' || a === '-h') ? 'help' : undefined, rest: leading };
  }
  return { command, rest: [...argv.slice(i + 1), ...leading] };
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):(\d{1,5})$/;

/** Validates "host:port" / "[v6]:port" up front so a typo fails before the node starts. */
export function checkHostPort(option: string, value: string): string {
  const m = HOST_PORT.exec(value);
  const port = m ? Number(m[1]) : 0;
  if (!m || port < 1 || port > 65535) throw new UsageError(`${option} wants host:port, got "${value}"`);
  return value;
}

function sha256Option(value: string): string {
  if (!/^[0-9a-f]{64}$/i.test(value.trim())) throw new UsageError(`--sha256 wants 64 hex digits (a SHA-256), got "${value}"`);
  return value.trim().toLowerCase();
}

function checkUrl(option: string, value: string): string {
  try {
    new URL(value);
  } catch {
    throw new UsageError(`${option} wants a URL, got "${value}"`);
  }
  return value;
}

const NEGATIVE = /^-\d+(\.\d+)?$/;

function rateOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseRate(text);
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

function onOff(name: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  const t = text.toLowerCase();
  if (t === 'on' || t === 'true') return true;
  if (t === 'off' || t === 'false') return false;
  throw new UsageError(`--${name} wants on or off, got "${text}"`);
}

function orderOption(text: string | undefined): 'asc' | 'desc' {
  if (text === undefined || text === 'asc' || text === 'desc') return text ?? 'asc';
  throw new UsageError(`--order wants asc or desc, got "${text}"`);
}

export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env): Invocation {
  const { command, rest } = splitCommand(argv);
  if (command === undefined) throw new UsageError('missing command');
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command "${command}"`);

  const config = parserOptions(spec);
  // A negative number ("settings ratioLimit -1", "--up -5") is a value, never an option: no option is
  // a digit. Hidden from parseArgs behind a NUL (which no real argument holds), restored after.
  const args = rest.map((a) => (NEGATIVE.test(a) ? `\0${a}` : a));
  let parsed;
  try {
    parsed = parseArgs({ args, options: config, allowPositionals: true, allowNegative: true, strict: true });
  } catch (err) {
    // parseArgs messages are long and mention `--`; keep the first sentence.
    const msg = err instanceof Error ? err.message.split('. ')[0]! : String(err);
    throw new UsageError(`${msg} (for \`cascade ${command}\`)`);
  }
  const unhide = (a: string) => (a.startsWith('\0') ? a.slice(1) : a);
  const v = Object.fromEntries(
    Object.entries(parsed.values).map(([k, x]) => [k, typeof x === 'string' ? unhide(x) : Array.isArray(x) ? x.map((y) => (typeof y === 'string' ? unhide(y) : y)) : x]),
  ) as Record<string, string | boolean | string[] | undefined>;
  parsed.positionals = parsed.positionals.map(unhide);
  const str = (k: OptName) => v[k] as string | undefined;
  const list = (k: OptName) => (v[k] as string[] | undefined) ?? [];
  const bool = (k: OptName) => v[k] === true;

  const options: Options = {
    json: bool('json'),
    help: bool('help'),
    verbose: bool('verbose'),
    stateDir: str('state-dir') !== undefined ? resolve(str('state-dir')!) : defaultStateDir(env),
    database: databaseOption(str('database'), spec.options.includes('database') ? env.CASCADE_DATABASE_URL : undefined),
    cluster: undefined,
    port: str('port') !== undefined ? parseInteger('port', str('port')!, 0, 65535) : DEFAULT_PORT,
    host: str('host'),
    dht: v.dht !== false,
    utp: v.utp !== false,
    dhtBootstrap: list('dht-bootstrap')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => checkHostPort('--dht-bootstrap', s)),
    trackers: list('tracker').map((u) => checkUrl('--tracker', u)),
    directories: list('directory').map((u) => httpUrl('--directory', u)),
    onion: undefined,
    privateDiscovery: bool('private-discovery'),
    relay: bool('relay'),
    relayPort: str('relay-port') !== undefined ? parseInteger('relay-port', str('relay-port')!, 0, 65535) : 0,
    exit: v.exit !== false,
    output: str('output'),
    dir: str('dir'),
    savePath: undefined,
    category: str('category'),
    tags: list('tag').flatMap((t) => t.split(',')).map((t) => {
      if (t.trim() === '') throw new UsageError('--tag wants a tag name, got an empty one');
      return t.trim();
    }),
    down: rateOption('down', str('down')),
    up: rateOption('up', str('up')),
    altDown: rateOption('alt-down', str('alt-down')),
    altUp: rateOption('alt-up', str('alt-up')),
    alt: onOff('alt', str('alt')),
    sort: str('sort'),
    order: orderOption(str('order')),
    limit: str('limit') !== undefined ? parseInteger('limit', str('limit')!, 1, Number.MAX_SAFE_INTEGER) : undefined,
    state: str('state'),
    off: bool('off'),
    announce: list('announce').map((u) => checkUrl('--announce', u)),
    pieceLength: undefined,
    private: bool('private'),
    webseeds: list('webseed').map((u) => checkUrl('--webseed', u)),
    webSeedFromPublicUrl: bool('web-seed-from-public-url'),
    cdnUrl: str('cdn-url') !== undefined ? httpUrl('--cdn-url', str('cdn-url')!) : undefined,
    mirrors: list('mirror').map((u) => {
      if (!/^(https?|ftp):\/\/[^/]/i.test(u)) throw new UsageError(`--mirror wants an http(s):// or ftp:// URL, got "${u}"`);
      return checkUrl('--mirror', u);
    }),
    sha256: str('sha256') !== undefined ? sha256Option(str('sha256')!) : undefined,
    to: list('to'),
    ipfsGateways: list('ipfs-gateway').map((u) => {
      if (!/^https?:\/\/[^/]/i.test(u)) throw new UsageError(`--ipfs-gateway wants an http(s):// URL, got "${u}"`);
      return checkUrl('--ipfs-gateway', u);
    }),
    encrypt: bool('encrypt'),
    v2: bool('v2'),
    hybrid: bool('hybrid'),
    peers: list('peer').map((p) => checkHostPort('--peer', p)),
    seed: bool('seed'),
    superSeed: bool('super-seed'),
    timeout: undefined,
    deleteData: bool('delete-data'),
    paused: bool('paused'),
    httpPort: str('http-port') !== undefined ? parseInteger('http-port', str('http-port')!, 0, 65535) : undefined,
    downloadDir: str('download-dir') !== undefined ? resolve(str('download-dir')!) : undefined,
    allowedHosts: list('allowed-host').map((h) => {
      if (!/^[A-Za-z0-9.-]{1,253}$/.test(h)) throw new UsageError(`--allowed-host takes a host name, not "${h}"`);
      return h.toLowerCase();
    }),
    allowPrivateUrls: bool('allow-private-urls'),
    storage: str('storage'),
    s3Endpoint: str('s3-endpoint') !== undefined ? httpUrl('--s3-endpoint', str('s3-endpoint')!) : undefined,
    iceServers: list('ice-server').length > 0 ? list('ice-server').map(parseIceServerUrl) : undefined,
    portMapping: portMappingMode(str('port-mapping')),
    // Not given: where help says LSD is on (--no-lsd), the lsd setting decides; elsewhere it is off.
    lsd: v.lsd === false ? 'off' : v.lsd === true ? 'on' : onByDefault(spec, 'lsd') ? 'setting' : 'off',
    publicUrl: str('public-url'),
    conversation: str('conversation'),
    metricsToken: str('metrics-token'),
    trustedProxies: trustedProxies(list('trusted-proxy'), command === 'serve' ? env.CASCADE_TRUSTED_PROXY : undefined),
    rotate: bool('rotate'),
    role: str('role'),
    torrent: str('torrent'),
    llmUrl: str('llm-url') !== undefined ? httpUrl('--llm-url', str('llm-url')!) : undefined,
    llmModel: str('llm-model'),
    llmKey: str('llm-key'),
    llmGguf: str('llm-gguf') !== undefined ? resolve(str('llm-gguf')!) : undefined,
    llmThreads: str('llm-threads') !== undefined ? parseInteger('llm-threads', str('llm-threads')!, 1, 256) : undefined,
    llmMaxTokens: str('llm-max-tokens') !== undefined ? parseInteger('llm-max-tokens', str('llm-max-tokens')!, 1, 8192) : undefined,
    trackerPort: str('tracker-port') !== undefined ? parseInteger('tracker-port', str('tracker-port')!, 0, 65535) : undefined,
    trackerHost: str('tracker-host'),
    chain: ['serve', 'seed', 'download', 'register', 'verify', 'rewards'].includes(command) ? chainOption(v.chain !== false, str('chain-rpc'), str('chain-id'), str('chain-contracts'), signerOption(str('chain-signer'), str('chain-from'))) : {},
    receipts: {},
    ipfsApi: str('ipfs-api') !== undefined ? httpUrl('--ipfs-api', str('ipfs-api')!) : undefined,
    arweave: arweaveOption(command, str('arweave'), str('arweave-wallet')),
  };
  options.onion = onionOption(command, options.directories, options.privateDiscovery, options.relay);
  options.cluster = clusterOption(str('cluster-url'), str('redis'), command === 'serve' ? env.CASCADE_REDIS_URL : undefined, options.database);
  for (const [flag, key] of [['receipt-every', 'everyBytes'], ['payment-threshold', 'paymentThresholdBytes'], ['auto-claim', 'autoClaimBytes']] as const) {
    const text = str(flag);
    if (text === undefined) continue;
    let bytes: number;
    try {
      bytes = parseSize(text);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
    if (!(bytes >= 1)) throw new UsageError(`--${flag} must be at least one byte`);
    options.receipts[key] = bytes;
  }
  if (str('piece-length') !== undefined) {
    try {
      options.pieceLength = parseSize(str('piece-length')!);
    } catch (err) {
      throw new UsageError(`--piece-length: ${(err as Error).message}`);
    }
    if (options.pieceLength <= 0) throw new UsageError('--piece-length must be positive');
  }
  if (str('save-path') !== undefined && str('output') !== undefined) {
    throw new UsageError('--save-path and -o say the same thing: give one of them');
  }
  const savePath = str('save-path') ?? (command === 'add' ? str('output') : undefined);
  if (savePath !== undefined) {
    if (savePath === '') throw new UsageError('--save-path wants a directory, got ""');
    options.savePath = resolve(savePath);
  }
  if (str('timeout') !== undefined) {
    const t = Number(str('timeout'));
    if (!(t > 0) || !Number.isFinite(t)) throw new UsageError(`--timeout wants seconds > 0, got "${str('timeout')}"`);
    options.timeout = t;
  }
  if ((options.llmUrl === undefined) !== (options.llmModel === undefined)) {
    throw new UsageError('--llm-url and --llm-model go together: the endpoint and the model to ask there');
  }
  if (options.llmModel !== undefined && options.llmModel.trim() === '') throw new UsageError('--llm-model wants a model name, got ""');
  if (options.llmGguf !== undefined && options.llmUrl !== undefined) {
    throw new UsageError('--llm-gguf and --llm-url are two ways to answer: a local model file, or an endpoint; give one');
  }
  if (options.llmGguf === undefined && (options.llmThreads !== undefined || options.llmMaxTokens !== undefined)) {
    throw new UsageError('--llm-threads and --llm-max-tokens are for a local model: give --llm-gguf FILE too');
  }
  if (options.torrent !== undefined && !/^[0-9a-fA-F]{1,40}$/.test(options.torrent)) {
    throw new UsageError(`--torrent wants an infohash (or a prefix of one), got "${options.torrent}"`);
  }
  if (options.dhtBootstrap.length > 0 && !options.dht) {
    throw new UsageError('--dht-bootstrap and --no-dht contradict each other');
  }

  let positionals = parsed.positionals;
  if (!options.help) {
    const [min, max] = spec.positionals;
    if (positionals.length < min) throw new UsageError(`missing argument\nusage: cascade ${spec.usage}`);
    if (positionals.length > max) {
      throw new UsageError(`unexpected argument "${positionals[max]}"\nusage: cascade ${spec.usage}`);
    }
    if (spec.joinRest) positionals = [positionals.join(' ')];
  }
  return { command, positionals, options, values: v };
}

/** --directory and --private-discovery: the second needs the first (except on `add`, which asks
 *  the running node); a relay publishes to the directories. */
function onionOption(command: string, directories: string[], privateDiscovery: boolean, relay: boolean): Options['onion'] {
  if (command === 'add' || command === 'relay') return undefined;
  if (privateDiscovery && directories.length === 0) {
    throw new UsageError('--private-discovery needs --directory URL: a Cascade tracker that lists onion relays (e.g. http://127.0.0.1:6969)');
  }
  if (relay && directories.length === 0) throw new UsageError('--relay needs --directory URL: where the relay publishes its descriptor');
  return directories.length > 0 ? { directories, byDefault: privateDiscovery } : undefined;
}

const PORT_MAPPING_MODES = ['auto', 'upnp', 'natpmp', 'off'] as const;

function portMappingMode(v: string | undefined): Options['portMapping'] {
  if (v === undefined) return undefined;
  const m = v.trim().toLowerCase();
  if (!(PORT_MAPPING_MODES as readonly string[]).includes(m)) throw new UsageError(`--port-mapping wants auto, upnp, natpmp or off, got "${v}"`);
  return m as Options['portMapping'];
}

/** The flag's entries, else the variable's; each an IP address or a CIDR range. */
function trustedProxies(flags: string[], fromEnv: string | undefined): string[] {
  const entries = flags.length > 0 ? flags.flatMap((f) => f.split(',')) : (fromEnv ?? '').split(/[\s,]+/);
  const out = entries.map((e) => e.trim()).filter((e) => e !== '');
  for (const e of out) {
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr!);
    const max = family === 4 ? 32 : 128;
    const ok = family !== 0 && extra === undefined && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max));
    if (!ok) throw new UsageError(`--trusted-proxy takes an IP address or a CIDR range (10.0.0.0/8, fd00::/8), not "${e}"`);
  }
  return out;
}

/** --arweave URL [--arweave-wallet FILE]: register needs both (or neither), verify the URL alone. */
function arweaveOption(command: string, url: string | undefined, wallet: string | undefined): Options['arweave'] {
  if (url === undefined && wallet === undefined) return undefined;
  if (url === undefined) throw new UsageError('--arweave-wallet goes with --arweave URL (the gateway to store the metadata block on)');
  if (command === 'register' && wallet === undefined) throw new UsageError('--arweave wants --arweave-wallet FILE: the wallet that signs and pays for the transaction');
  return { url: httpUrl('--arweave', url), ...(wallet !== undefined ? { wallet: resolve(wallet) } : {}) };
}
