// Command-line parsing. A thin layer over node:util parseArgs: each command declares which options
// it accepts, so a typo like `--pear` is a usage error (exit 2) instead of being silently ignored.

import { parseArgs } from 'node:util';
import { homedir } from 'node:os';
import { resolve, join } from 'node:path';
import { UsageError } from '@cascade/server/core';
import { parseSize } from './format.ts';

export interface Options {
  json: boolean;
  help: boolean;
  /** Absolute path of the node's state directory (DB, control file). */
  stateDir: string;
  port: number;
  host: string | undefined;
  dht: boolean;
  dhtBootstrap: string[];
  trackers: string[];
  /** -o: the .torrent path for `create`, the download directory for `download`/`add`. */
  output: string | undefined;
  /** --dir: the data directory for `seed` (and an alias of -o for `download`). */
  dir: string | undefined;
  announce: string[];
  pieceLength: number | undefined;
  private: boolean;
  webseeds: string[];
  peers: string[];
  seed: boolean;
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
  /** serve: host names the web UI answers to besides IP addresses and localhost. */
  allowedHosts: string[];
  /** serve: let added URLs reach loopback, private and link-local addresses. */
  allowPrivateUrls: boolean;
}

export interface Invocation {
  command: string;
  positionals: string[];
  options: Options;
}

type OptName =
  | 'json' | 'help' | 'state-dir' | 'port' | 'host' | 'dht' | 'dht-bootstrap' | 'tracker'
  | 'output' | 'dir' | 'announce' | 'piece-length' | 'private' | 'webseed' | 'peer' | 'seed'
  | 'timeout' | 'delete-data' | 'paused' | 'http-port' | 'download-dir' | 'tracker-port' | 'allowed-host' | 'allow-private-urls';

interface OptDef { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: boolean }

const OPTION_DEFS: Record<OptName, OptDef> = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'state-dir': { type: 'string' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  dht: { type: 'boolean', default: true },
  'dht-bootstrap': { type: 'string', multiple: true },
  tracker: { type: 'string', multiple: true },
  output: { type: 'string', short: 'o' },
  dir: { type: 'string', short: 'd' },
  announce: { type: 'string', short: 'a', multiple: true },
  'piece-length': { type: 'string' },
  private: { type: 'boolean' },
  webseed: { type: 'string', multiple: true },
  peer: { type: 'string', multiple: true },
  seed: { type: 'boolean' },
  timeout: { type: 'string' },
  'delete-data': { type: 'boolean' },
  paused: { type: 'boolean' },
  'http-port': { type: 'string' },
  'download-dir': { type: 'string' },
  'tracker-port': { type: 'string' },
  'allowed-host': { type: 'string', multiple: true },
  'allow-private-urls': { type: 'boolean' },
};

const COMMON: OptName[] = ['json', 'help', 'state-dir'];
/** Options of every command that runs a BitTorrent node. */
const NODE: OptName[] = [...COMMON, 'port', 'host', 'dht', 'dht-bootstrap', 'tracker'];

interface CommandSpec {
  options: OptName[];
  /** [min, max] positional arguments; max Infinity = rest joined (search text). */
  positionals: [number, number];
  usage: string;
  summary: string;
}

export const COMMANDS: Record<string, CommandSpec> = {
  create: {
    options: [...COMMON, 'output', 'announce', 'piece-length', 'private', 'webseed'],
    positionals: [1, 1],
    usage: 'create <path> [-o out.torrent] [--announce URL]... [--piece-length BYTES] [--private] [--webseed URL]...',
    summary: 'make a .torrent from a file or directory and print its magnet link',
  },
  seed: {
    options: [...NODE, 'dir'],
    positionals: [1, 1],
    usage: 'seed <torrent-file> --dir <save-path> [--port N]',
    summary: 'verify existing data and seed it until interrupted',
  },
  download: {
    options: [...NODE, 'output', 'dir', 'peer', 'seed', 'timeout'],
    positionals: [1, 1],
    usage: 'download <magnet|torrent-file|infohash> -o <dir> [--peer host:port]... [--seed] [--timeout SECONDS]',
    summary: 'download a torrent, exit when complete (or keep seeding with --seed)',
  },
  serve: {
    options: [...NODE, 'http-port', 'download-dir', 'tracker-port', 'allowed-host', 'allow-private-urls'],
    positionals: [0, 0],
    usage: 'serve [--http-port N] [--host ADDR] [--download-dir DIR] [--port N] [--tracker-port N] [--allowed-host NAME]... [--allow-private-urls]',
    summary: 'run the node: every stored torrent, the tracker, and the web UI + API on http://localhost:8080',
  },
  add: {
    options: [...COMMON, 'output', 'peer', 'paused'],
    positionals: [1, 1],
    usage: 'add <magnet|torrent-file|infohash> [-o dir] [--peer host:port]... [--paused]',
    summary: 'add a torrent to the running node (or queue it for the next serve)',
  },
  list: { options: COMMON, positionals: [0, 0], usage: 'list', summary: 'list torrents' },
  search: {
    options: COMMON,
    positionals: [1, Infinity],
    usage: 'search <text|infohash>',
    summary: 'find torrents in the local index by name or infohash',
  },
  peers: { options: COMMON, positionals: [0, 1], usage: 'peers [infohash]', summary: 'show connected peers' },
  connect: {
    options: COMMON,
    positionals: [2, 2],
    usage: 'connect <infohash> <host:port>',
    summary: 'connect a torrent to a peer',
  },
  health: { options: COMMON, positionals: [0, 0], usage: 'health', summary: 'node status (port, peers, DHT)' },
  announce: {
    options: COMMON,
    positionals: [0, 1],
    usage: 'announce [infohash]',
    summary: 'announce to trackers and DHT now',
  },
  debug: { options: COMMON, positionals: [0, 0], usage: 'debug', summary: 'dump the node state' },
  pause: { options: COMMON, positionals: [1, 1], usage: 'pause <infohash>', summary: 'pause a torrent' },
  resume: { options: COMMON, positionals: [1, 1], usage: 'resume <infohash>', summary: 'resume a torrent' },
  recheck: {
    options: COMMON,
    positionals: [1, 1],
    usage: 'recheck <infohash>',
    summary: 'hash a torrent\'s data on disk again (running node); what fails is downloaded again',
  },
  remove: {
    options: [...COMMON, 'delete-data'],
    positionals: [1, 1],
    usage: 'remove <infohash> [--delete-data]',
    summary: 'remove a torrent (and its data with --delete-data)',
  },
  identity: {
    options: COMMON,
    positionals: [0, 2],
    usage: 'identity [--state-dir DIR] [--json] | identity export FILE | identity import FILE',
    summary: "the node's identity: its did:key and Ethereum account",
  },
  token: {
    options: COMMON,
    positionals: [0, 0],
    usage: 'token [--state-dir DIR] [--json]',
    summary: "the node's API token (Authorization: Bearer …), made on first use",
  },
  users: {
    options: COMMON,
    positionals: [0, 2],
    usage: 'users [list] | users add <did:key:…|0x…> | users remove <did:key:…|0x…>',
    summary: "who may use the node: its owner and members",
  },
  help: { options: COMMON, positionals: [0, 1], usage: 'help [command]', summary: 'show help' },
};

export const DEFAULT_PORT = 6881;

export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  return env.CASCADE_HOME ? resolve(env.CASCADE_HOME) : join(homedir(), '.cascade');
}

export function usageText(command?: string): string {
  const spec = command ? COMMANDS[command] : undefined;
  if (spec) {
    const serveExtra =
      command === 'serve'
        ? '\n\nserve options: --http-port N (web UI + API, default 8080) --host ADDR (its bind address, default\n' +
          '               127.0.0.1) --download-dir DIR (default <state-dir>/downloads) --tracker-port N (default 6969)\n' +
          '               --allowed-host NAME (a domain name the UI is reached by; IPs and localhost always work)\n' +
          '               --allow-private-urls (added .torrent URLs may point at this machine or the LAN)'
        : '';
    const extra = spec.options.includes('port')
      ? serveExtra + '\n\nnode options: --port N (default 6881, 0 = any) --host ADDR --no-dht --dht-bootstrap host:port[,...]\n' +
        '              --tracker URL... --state-dir DIR --json'
      : '\n\noptions: --state-dir DIR (default $CASCADE_HOME or ~/.cascade) --json';
    return `usage: cascade ${spec.usage}\n\n${spec.summary}${extra}`;
  }
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, s]) => `  ${name.padEnd(width)}  ${s.summary}`);
  lines.push(`  ${'tracker'.padEnd(width)}  run a BitTorrent tracker (HTTP, UDP, WebSocket; see \`cascade tracker --help\`)`);
  return `usage: cascade <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    'run `cascade help <command>` for its options';
}

/** Global options may come before the command (`cascade --json list`); move them after it. */
function splitCommand(argv: string[]): { command: string | undefined; rest: string[] } {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const a = argv[i]!;
    if (a === '--json' || a === '--help' || a === '-h' || a.startsWith('--state-dir=')) {
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

function parseInteger(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} wants a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):(\d{1,5})$/;

/** Validates "host:port" / "[v6]:port" up front so a typo fails before the node starts. */
export function checkHostPort(option: string, value: string): string {
  const m = HOST_PORT.exec(value);
  const port = m ? Number(m[1]) : 0;
  if (!m || port < 1 || port > 65535) throw new UsageError(`${option} wants host:port, got "${value}"`);
  return value;
}

function checkUrl(option: string, value: string): string {
  try {
    new URL(value);
  } catch {
    throw new UsageError(`${option} wants a URL, got "${value}"`);
  }
  return value;
}

export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = process.env): Invocation {
  const { command, rest } = splitCommand(argv);
  if (command === undefined) throw new UsageError('missing command');
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command "${command}"`);

  const config: Record<string, OptDef> = {};
  for (const name of spec.options) config[name] = OPTION_DEFS[name];
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: config, allowPositionals: true, allowNegative: true, strict: true });
  } catch (err) {
    // parseArgs messages are long and mention `--`; keep the first sentence.
    const msg = err instanceof Error ? err.message.split('. ')[0]! : String(err);
    throw new UsageError(`${msg} (for \`cascade ${command}\`)`);
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const str = (k: OptName) => v[k] as string | undefined;
  const list = (k: OptName) => (v[k] as string[] | undefined) ?? [];
  const bool = (k: OptName) => v[k] === true;

  const options: Options = {
    json: bool('json'),
    help: bool('help'),
    stateDir: str('state-dir') !== undefined ? resolve(str('state-dir')!) : defaultStateDir(env),
    port: str('port') !== undefined ? parseInteger('port', str('port')!, 0, 65535) : DEFAULT_PORT,
    host: str('host'),
    dht: v.dht !== false,
    dhtBootstrap: list('dht-bootstrap')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => checkHostPort('--dht-bootstrap', s)),
    trackers: list('tracker').map((u) => checkUrl('--tracker', u)),
    output: str('output'),
    dir: str('dir'),
    announce: list('announce').map((u) => checkUrl('--announce', u)),
    pieceLength: undefined,
    private: bool('private'),
    webseeds: list('webseed').map((u) => checkUrl('--webseed', u)),
    peers: list('peer').map((p) => checkHostPort('--peer', p)),
    seed: bool('seed'),
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
    trackerPort: str('tracker-port') !== undefined ? parseInteger('tracker-port', str('tracker-port')!, 0, 65535) : undefined,
  };
  if (str('piece-length') !== undefined) {
    try {
      options.pieceLength = parseSize(str('piece-length')!);
    } catch (err) {
      throw new UsageError(`--piece-length: ${(err as Error).message}`);
    }
    if (options.pieceLength <= 0) throw new UsageError('--piece-length must be positive');
  }
  if (str('timeout') !== undefined) {
    const t = Number(str('timeout'));
    if (!(t > 0) || !Number.isFinite(t)) throw new UsageError(`--timeout wants seconds > 0, got "${str('timeout')}"`);
    options.timeout = t;
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
    if (max === Infinity) positionals = [positionals.join(' ')];
  }
  return { command, positionals, options };
}
