// session-get, session-set and session-stats over the node's settings and transfer totals.
// Transmission shows a limit as "enabled + value"; Cascade stores a value with 0 meaning none, so a
// value set while its limit is off is remembered (in the node's state: every member of a cluster
// shows it; memory.ts) and shown back, as a Transmission client expects. Speeds are kB/s of 1000
// bytes, as `units` says.

import type { CompatOps, NodeSettings } from '../ops.ts';
import { RpcError, absolutePath, bool, int, num, type Args } from './args.ts';
import { DEFAULT_IDLE_MINUTES, DEFAULT_RATIO, DEFAULT_SPEED_KBPS, KB, PEER_LIMIT_GLOBAL, PEER_LIMIT_PER_TORRENT } from './torrent-view.ts';

export const RPC_VERSION = 17;
export const RPC_VERSION_MINIMUM = 14;
export const RPC_VERSION_SEMVER = '5.3.0';

interface Schedule {
  enabled: boolean;
  from: string;
  to: string;
  days: number[];
}

/** Values shown for limits that are off. */
export class SessionMemory {
  speedDown = DEFAULT_SPEED_KBPS;
  speedUp = DEFAULT_SPEED_KBPS;
  downloadQueue = 5;
  seedQueue = 10;
  ratio = DEFAULT_RATIO;
  idleMinutes = DEFAULT_IDLE_MINUTES;
}

/** The name of the remembered values in the adapters' memory (memory.ts). */
export const SESSION_MEMORY = 'session-memory';

/** SessionMemory from a stored record: its numbers taken, anything else left at the defaults. */
export function rememberedSession(stored: unknown): SessionMemory {
  const mem = new SessionMemory();
  if (!stored || typeof stored !== 'object') return mem;
  for (const key of Object.keys(mem) as (keyof SessionMemory)[]) {
    const v = (stored as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v)) mem[key] = v;
  }
  return mem;
}

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};
const hhmmOf = (minutes: number): string => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
/** tr_sched_day: Sunday = 1, Monday = 2 … Saturday = 64. */
const dayMask = (days: number[]): number => days.reduce((m, d) => m | (1 << d), 0);
const daysOf = (mask: number): number[] => [0, 1, 2, 3, 4, 5, 6].filter((d) => (mask & (1 << d)) !== 0);

function scheduleOf(s: NodeSettings): Schedule {
  const v = s.altSpeedSchedule as Schedule | undefined;
  return v ?? { enabled: false, from: '20:00', to: '08:00', days: [0, 1, 2, 3, 4, 5, 6] };
}

const kbps = (bytes: number, off: number): number => (bytes > 0 ? Math.max(1, Math.round(bytes / KB)) : off);

export async function sessionValues(ops: CompatOps, mem: SessionMemory, sessionId: string): Promise<Record<string, unknown>> {
  const s = ops.settings();
  const t = ops.transfer();
  const sched = scheduleOf(s);
  let free = -1;
  try {
    free = (await ops.freeSpace(s.downloadDir)).free;
  } catch {
    // the download dir may not exist yet: Transmission shows -1 then too
  }
  return {
    'alt-speed-down': kbps(s.altDownloadLimit, DEFAULT_SPEED_KBPS),
    'alt-speed-enabled': s.altSpeedEnabled,
    'alt-speed-time-begin': minutesOf(sched.from),
    'alt-speed-time-day': dayMask(sched.days),
    'alt-speed-time-enabled': sched.enabled,
    'alt-speed-time-end': minutesOf(sched.to),
    'alt-speed-up': kbps(s.altUploadLimit, DEFAULT_SPEED_KBPS),
    'anti-brute-force-enabled': false,
    'anti-brute-force-threshold': 100,
    'blocklist-enabled': false,
    'blocklist-size': 0,
    'blocklist-url': '',
    'cache-size-mb': 0,
    'config-dir': '',
    'default-trackers': '',
    'dht-enabled': t.dhtEnabled,
    'download-dir': s.downloadDir,
    'download-dir-free-space': free,
    'download-queue-enabled': s.maxActiveDownloads > 0,
    'download-queue-size': s.maxActiveDownloads > 0 ? s.maxActiveDownloads : mem.downloadQueue,
    encryption: 'tolerated',
    'idle-seeding-limit': s.seedingTimeLimit !== null ? Math.round(s.seedingTimeLimit / 60) : mem.idleMinutes,
    'idle-seeding-limit-enabled': s.seedingTimeLimit !== null,
    'incomplete-dir': '',
    'incomplete-dir-enabled': false,
    'lpd-enabled': false,
    'peer-limit-global': PEER_LIMIT_GLOBAL,
    'peer-limit-per-torrent': PEER_LIMIT_PER_TORRENT,
    'peer-port': t.bittorrentPort,
    'peer-port-random-on-start': false,
    'pex-enabled': true,
    'port-forwarding-enabled': portMappingOn(s),
    'queue-stalled-enabled': s.stalledTimeout > 0,
    'queue-stalled-minutes': Math.round(s.stalledTimeout / 60),
    'rename-partial-files': false,
    'rpc-version': RPC_VERSION,
    'rpc-version-minimum': RPC_VERSION_MINIMUM,
    'rpc-version-semver': RPC_VERSION_SEMVER,
    'script-torrent-added-enabled': false,
    'script-torrent-added-filename': '',
    'script-torrent-done-enabled': false,
    'script-torrent-done-filename': '',
    'script-torrent-done-seeding-enabled': false,
    'script-torrent-done-seeding-filename': '',
    'seed-queue-enabled': s.maxActiveUploads > 0,
    'seed-queue-size': s.maxActiveUploads > 0 ? s.maxActiveUploads : mem.seedQueue,
    seedRatioLimit: s.ratioLimit ?? mem.ratio,
    seedRatioLimited: s.ratioLimit !== null,
    'session-id': sessionId,
    'speed-limit-down': kbps(s.downloadLimit, mem.speedDown),
    'speed-limit-down-enabled': s.downloadLimit > 0,
    'speed-limit-up': kbps(s.uploadLimit, mem.speedUp),
    'speed-limit-up-enabled': s.uploadLimit > 0,
    'start-added-torrents': !s.startPaused,
    'tcp-enabled': true,
    'trash-original-torrent-files': false,
    units: {
      'memory-bytes': 1024,
      'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'],
      'size-bytes': 1000,
      'size-units': ['kB', 'MB', 'GB', 'TB'],
      'speed-bytes': 1000,
      'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'],
    },
    'utp-enabled': false,
    version: `4.0.0 (cascade ${ops.version})`,
  };
}

/** Switches Cascade does not have: fine to send while off (a preferences dialog sends them all), an error when turned on. */
const ABSENT_SWITCHES: Record<string, string> = {
  'blocklist-enabled': 'a blocklist',
  'incomplete-dir-enabled': 'an incomplete-downloads folder',
  'lpd-enabled': 'local peer discovery',
  'peer-port-random-on-start': 'a random peer port',
  'rename-partial-files': '.part file names',
  'script-torrent-added-enabled': 'scripts',
  'script-torrent-done-enabled': 'scripts',
  'script-torrent-done-seeding-enabled': 'scripts',
  'trash-original-torrent-files': 'trashing .torrent files',
  'utp-enabled': 'uTP',
  'anti-brute-force-enabled': 'anti-brute-force lockout',
};

/** A limit given as enabled + value: the bytes/s (0 = off) to store, and the value to remember. */
function limit(args: Args, valueKey: string, enabledKey: string, currentBytes: number, remembered: number): { bytes: number; shown: number } | undefined {
  const value = int(args, valueKey);
  const enabled = bool(args, enabledKey);
  if (value === undefined && enabled === undefined) return undefined;
  if (value !== undefined && value < 0) throw new RpcError(`"${valueKey}" must be 0 or more kB/s`);
  const shown = value ?? (currentBytes > 0 ? Math.round(currentBytes / KB) : remembered);
  const on = enabled ?? currentBytes > 0;
  if (on && shown === 0) throw new RpcError(`"${valueKey}" 0 would stop all transfer, which Cascade has no limit for (stop the torrents instead)`);
  return { bytes: on ? shown * KB : 0, shown };
}

/** Applies what maps onto Cascade's settings; unknown keys are ignored, as Transmission does. */
export async function sessionSet(ops: CompatOps, mem: SessionMemory, args: Args): Promise<void> {
  const s = ops.settings();
  const patch: Partial<NodeSettings> & Record<string, unknown> = {};
  const problems: string[] = [];

  const down = limit(args, 'speed-limit-down', 'speed-limit-down-enabled', s.downloadLimit, mem.speedDown);
  if (down) [patch.downloadLimit, mem.speedDown] = [down.bytes, down.shown];
  const up = limit(args, 'speed-limit-up', 'speed-limit-up-enabled', s.uploadLimit, mem.speedUp);
  if (up) [patch.uploadLimit, mem.speedUp] = [up.bytes, up.shown];
  for (const [key, field] of [['alt-speed-down', 'altDownloadLimit'], ['alt-speed-up', 'altUploadLimit']] as const) {
    const v = int(args, key);
    if (v === undefined) continue;
    if (v <= 0) throw new RpcError(`"${key}" must be at least 1 kB/s`);
    patch[field] = v * KB;
  }
  const alt = bool(args, 'alt-speed-enabled');
  if (alt !== undefined) patch.altSpeedEnabled = alt;

  const sched = scheduleOf(s);
  const begin = int(args, 'alt-speed-time-begin');
  const end = int(args, 'alt-speed-time-end');
  const day = int(args, 'alt-speed-time-day');
  const schedOn = bool(args, 'alt-speed-time-enabled');
  if (begin !== undefined || end !== undefined || day !== undefined || schedOn !== undefined) {
    for (const [k, v] of [['alt-speed-time-begin', begin], ['alt-speed-time-end', end]] as const) {
      if (v !== undefined && (v < 0 || v >= 24 * 60)) throw new RpcError(`"${k}" must be minutes after midnight (0 to 1439)`);
    }
    if (day !== undefined && (day < 0 || day > 127)) throw new RpcError('"alt-speed-time-day" must be a mask of days (1 = Sunday … 64 = Saturday)');
    patch.altSpeedSchedule = {
      enabled: schedOn ?? sched.enabled,
      from: begin !== undefined ? hhmmOf(begin) : sched.from,
      to: end !== undefined ? hhmmOf(end) : sched.to,
      days: day !== undefined ? daysOf(day) : sched.days,
    };
  }

  for (const [sizeKey, onKey, field, memKey] of [
    ['download-queue-size', 'download-queue-enabled', 'maxActiveDownloads', 'downloadQueue'],
    ['seed-queue-size', 'seed-queue-enabled', 'maxActiveUploads', 'seedQueue'],
  ] as const) {
    const size = int(args, sizeKey);
    const on = bool(args, onKey);
    if (size === undefined && on === undefined) continue;
    if (size !== undefined && size < 1) throw new RpcError(`"${sizeKey}" must be 1 or more`);
    if (size !== undefined) mem[memKey] = size;
    const enabled = on ?? s[field] > 0;
    patch[field] = enabled ? (size ?? (s[field] > 0 ? s[field] : mem[memKey])) : 0;
  }

  const ratio = num(args, 'seedRatioLimit');
  const ratioOn = bool(args, 'seedRatioLimited');
  if (ratio !== undefined && ratio < 0) throw new RpcError('"seedRatioLimit" must be 0 or more');
  if (ratio !== undefined) mem.ratio = ratio;
  if (ratioOn === false) patch.ratioLimit = null;
  else if (ratioOn === true || (ratio !== undefined && s.ratioLimit !== null)) patch.ratioLimit = ratio ?? s.ratioLimit ?? mem.ratio;

  const idle = int(args, 'idle-seeding-limit');
  const idleOn = bool(args, 'idle-seeding-limit-enabled');
  if (idle !== undefined && idle < 0) throw new RpcError('"idle-seeding-limit" must be 0 or more minutes');
  if (idle !== undefined) mem.idleMinutes = idle;
  if (idleOn === false) patch.seedingTimeLimit = null;
  else if (idleOn === true || (idle !== undefined && s.seedingTimeLimit !== null)) {
    patch.seedingTimeLimit = idle !== undefined ? idle * 60 : (s.seedingTimeLimit ?? mem.idleMinutes * 60);
  }

  const stalledOn = bool(args, 'queue-stalled-enabled');
  const stalledMinutes = int(args, 'queue-stalled-minutes');
  if (stalledOn === false) patch.stalledTimeout = 0;
  else if (stalledMinutes !== undefined || stalledOn === true) {
    if (stalledMinutes !== undefined && stalledMinutes < 1) throw new RpcError('"queue-stalled-minutes" must be 1 or more');
    patch.stalledTimeout = (stalledMinutes ?? (s.stalledTimeout > 0 ? s.stalledTimeout / 60 : 30)) * 60;
  }

  const start = bool(args, 'start-added-torrents');
  if (start !== undefined) patch.startPaused = !start;
  const dir = absolutePath(args, 'download-dir', 'download directory');
  if (dir !== undefined) patch.downloadDir = dir;

  const dht = bool(args, 'dht-enabled');
  if (dht !== undefined && dht !== ops.transfer().dhtEnabled) problems.push('the DHT is switched when the node starts (--dht), not over RPC');
  const port = int(args, 'peer-port');
  if (port !== undefined && port !== ops.transfer().bittorrentPort) problems.push('the peer port is set when the node starts, not over RPC');
  const enc = args.encryption;
  if (enc !== undefined && enc !== 'tolerated' && enc !== 'preferred') problems.push(`encryption "${String(enc)}" cannot be set over RPC`);
  if (bool(args, 'pex-enabled') === false) problems.push('peer exchange cannot be switched off over RPC');
  if (bool(args, 'tcp-enabled') === false) problems.push('TCP cannot be switched off over RPC');
  // Transmission's one switch for UPnP and NAT-PMP: on keeps the protocol chosen, or auto.
  const forwarding = bool(args, 'port-forwarding-enabled');
  if (forwarding !== undefined && s.portMapping !== undefined) patch.portMapping = forwarding ? (portMappingOn(s) ? s.portMapping : 'auto') : 'off';
  else if (forwarding === true) problems.push('this node has no port mapping ("port-forwarding-enabled")');
  for (const [key, what] of Object.entries(ABSENT_SWITCHES)) {
    if (bool(args, key) === true) problems.push(`Cascade has no ${what} ("${key}")`);
  }

  if (Object.keys(patch).length > 0) await ops.setSettings(patch);
  if (problems.length > 0) throw new RpcError(problems.join('; '));
}

export function sessionStats(ops: CompatOps): Record<string, unknown> {
  const rows = ops.list();
  const t = ops.transfer();
  const active = rows.filter((r) => ['downloading', 'seeding', 'metadata', 'checking'].includes(r.state)).length;
  // uptimeSeconds is rounded: a second's margin (torrents restored at start were added in earlier runs).
  const since = Date.now() - (t.uptimeSeconds + 1) * 1000;
  const added = rows.filter((r) => r.addedAt !== null && r.addedAt >= since).length;
  return {
    activeTorrentCount: active,
    downloadSpeed: Math.round(t.downloadSpeed),
    pausedTorrentCount: rows.length - active,
    torrentCount: rows.length,
    uploadSpeed: Math.round(t.uploadSpeed),
    // Cascade keeps byte totals over every run, not how many runs there were.
    'cumulative-stats': { downloadedBytes: t.totalDownloaded, filesAdded: rows.length, secondsActive: t.uptimeSeconds, sessionCount: 1, uploadedBytes: t.totalUploaded },
    'current-stats': { downloadedBytes: t.sessionDownloaded, filesAdded: added, secondsActive: t.uptimeSeconds, sessionCount: 1, uploadedBytes: t.sessionUploaded },
  };
}

/** True when the node maps its port on the gateway (the portMapping setting is not "off"). */
function portMappingOn(s: NodeSettings): boolean {
  return s.portMapping !== undefined && s.portMapping !== 'off';
}
