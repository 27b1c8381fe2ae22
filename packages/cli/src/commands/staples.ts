// The daily staples from the command line (issue 20): speed limits, the queue, force start, moving
// data, and the node's settings. Each calls the same node operation the web UI and API call (the
// control RPCs settings.get/set, torrent.set, queue.move); with no node running, those that are
// only stored (settings, limits) go to the state DB, through the same model, for the next serve.

import { parseIceServerUrl } from '@cascade/node/verbs';
import { resolve } from 'node:path';
import { ControlClient, resolveInfoHash } from '@cascade/node/verbs';
import type { ListEntry } from '@cascade/shapes';
import { UsageError } from '../core/errors.ts';
import { formatLimit, parseRate } from '../output/format.ts';
import { offlineModel } from '../core/offline-model.ts';
import { requireNode, short, withDb, type Verb } from './node-access.ts';
import type { Invocation } from '../parse/args.ts';

type Settings = Record<string, unknown>;

/** The stored settings, read or changed through the node model on the state DB (no node running). */
function storedSettings(inv: Invocation, patch?: Settings): Promise<Settings> {
  return withDb(inv, async (db) => {
    const { model } = await offlineModel(db);
    return { ...(patch ? await model.setSettings(patch) : model.getSettings()) };
  });
}

/** A torrent's list entry by full infohash or unique prefix (the running node's view). */
export async function findEntry(node: ControlClient, arg: string): Promise<ListEntry> {
  const { torrents } = await node.call<{ torrents: ListEntry[] }>('list');
  const ih = resolveInfoHash(arg, torrents.map((e) => e.infoHash));
  return torrents.find((e) => e.infoHash === ih)!;
}

// ---- limits ----

const RATE_KEYS = ['downloadLimit', 'uploadLimit', 'altDownloadLimit', 'altUploadLimit'] as const;

function globalLimits(s: Settings) {
  return {
    downloadLimit: s.downloadLimit as number,
    uploadLimit: s.uploadLimit as number,
    altDownloadLimit: s.altDownloadLimit as number,
    altUploadLimit: s.altUploadLimit as number,
    altSpeedEnabled: s.altSpeedEnabled === true,
  };
}

function renderGlobal(l: ReturnType<typeof globalLimits>): string {
  return [
    `node-wide    download ${formatLimit(l.downloadLimit)}, upload ${formatLimit(l.uploadLimit)}${l.altSpeedEnabled ? ' (not in force: alternative limits on)' : ''}`,
    `alternative  download ${formatLimit(l.altDownloadLimit)}, upload ${formatLimit(l.altUploadLimit)} (${l.altSpeedEnabled ? 'on' : 'off'})`,
  ].join('\n');
}

export const limits: Verb = async (inv, out, node) => {
  const o = inv.options;
  const hash = inv.positionals[0];
  if (hash !== undefined) {
    if (o.altDown !== undefined || o.altUp !== undefined || o.alt !== undefined) {
      throw new UsageError('--alt-down, --alt-up and --alt are node-wide: give them without an infohash');
    }
    const patch = { ...(o.down !== undefined ? { downloadLimit: o.down } : {}), ...(o.up !== undefined ? { uploadLimit: o.up } : {}) };
    let entry: { infoHash: string; name: string | null; downloadLimit: number; uploadLimit: number };
    if (node) {
      const found = await findEntry(node, hash);
      if (Object.keys(patch).length > 0) await node.call('torrent.set', { infoHash: found.infoHash, ...patch });
      entry = Object.keys(patch).length > 0 ? await findEntry(node, found.infoHash) : found;
    } else {
      entry = await withDb(inv, async (db) => (await offlineModel(db)).torrentLimits(hash, patch));
    }
    const r = { infoHash: entry.infoHash, downloadLimit: entry.downloadLimit, uploadLimit: entry.uploadLimit, online: node !== undefined };
    out.result(r, () =>
      `${short(r.infoHash)}  ${entry.name ?? ''}\n  download ${formatLimit(r.downloadLimit)}, upload ${formatLimit(r.uploadLimit)}` +
      ' (its own; the node-wide limits apply too)',
    );
    return 0;
  }
  const patch: Settings = {};
  if (o.down !== undefined) patch.downloadLimit = o.down;
  if (o.up !== undefined) patch.uploadLimit = o.up;
  if (o.altDown !== undefined) patch.altDownloadLimit = o.altDown;
  if (o.altUp !== undefined) patch.altUploadLimit = o.altUp;
  if (o.alt !== undefined) patch.altSpeedEnabled = o.alt;
  const changing = Object.keys(patch).length > 0;
  let s: Settings;
  if (node) s = await node.call<Settings>(changing ? 'settings.set' : 'settings.get', changing ? patch : {});
  else s = await storedSettings(inv, changing ? patch : undefined);
  const r = { ...globalLimits(s), online: node !== undefined };
  out.result(r, () => renderGlobal(r));
  return 0;
};

// ---- queue and force start ----

const MOVES = ['up', 'down', 'top', 'bottom'];

export const queue: Verb = async (inv, out, node) => {
  const [hash, move] = inv.positionals as [string, string];
  if (!MOVES.includes(move)) throw new UsageError(`queue: want up, down, top or bottom after the infohash, got "${move}"`);
  const n = requireNode(node, 'moving a torrent in the queue');
  const { infoHash } = await findEntry(n, hash);
  const r = await n.call<{ queuePosition: number | null }>('queue.move', { infoHash, move });
  out.result({ infoHash, move, queuePosition: r.queuePosition }, () =>
    r.queuePosition === null
      ? `${short(infoHash)} is complete: it is not in the download queue`
      : `${short(infoHash)} moved ${move}: now #${r.queuePosition} in the queue`,
  );
  return 0;
};

export const forceStart: Verb = async (inv, out, node) => {
  const n = requireNode(node, 'force start');
  const { infoHash } = await findEntry(n, inv.positionals[0]!);
  const on = !inv.options.off;
  await n.call('torrent.set', { infoHash, forceStart: on });
  const e = await findEntry(n, infoHash);
  out.result({ infoHash, forceStart: e.forceStart, state: e.state }, () =>
    on ? `${short(infoHash)} force-started (${e.state}): the queue limits do not hold it back` : `${short(infoHash)} is back under the queue (${e.state})`,
  );
  return 0;
};

/** `sequential` and `first-last`: the order a torrent's pieces come in (qBittorrent's two toggles). */
export function pieceOrderVerb(which: 'sequential' | 'firstLastPiece'): Verb {
  const what = which === 'sequential' ? 'sequential download' : 'first and last pieces first';
  return async (inv, out, node) => {
    const n = requireNode(node, what);
    const { infoHash } = await findEntry(n, inv.positionals[0]!);
    const on = !inv.options.off;
    const d = await n.call<Record<string, unknown>>('torrent.set', { infoHash, [which]: on });
    out.result({ infoHash, [which]: d[which] ?? on }, () => `${short(infoHash)}: ${what} ${on ? 'on' : 'off'}`);
    return 0;
  };
}

// ---- move ----

/** Moving a big torrent's data to another disk takes a while: far longer than a verb's usual wait. */
const MOVE_TIMEOUT_MS = 24 * 3600 * 1000;

export const move: Verb = async (inv, out, node) => {
  const [hash, dir] = inv.positionals as [string, string];
  if (dir.trim() === '') throw new UsageError('move: want a directory to move the data to');
  const n = requireNode(node, "moving a torrent's data");
  const { infoHash, savePath: from } = await findEntry(n, hash);
  const to = resolve(dir);
  await new ControlClient(n.info, MOVE_TIMEOUT_MS).call('torrent.set', { infoHash, savePath: to });
  const e = await findEntry(n, infoHash);
  out.result({ infoHash, from, savePath: e.savePath }, () => `moved ${short(infoHash)} from ${from} to ${e.savePath}`);
  return 0;
};

// ---- settings ----

/** Keys whose value may be a path: a relative one is taken from the shell's directory, as everywhere in the CLI. */
const PATH_KEYS = ['downloadDir'];

/** A setting's value as typed: rates with units, paths, none/null, JSON (numbers, booleans, objects), else the text. */
export function settingValue(key: string, text: string): unknown {
  if ((RATE_KEYS as readonly string[]).includes(key)) {
    try {
      return parseRate(text);
    } catch (err) {
      throw new UsageError(`${key}: ${(err as Error).message}`);
    }
  }
  if (text === 'none' || text === 'null') return null;
  if (PATH_KEYS.includes(key)) return resolve(text);
  // ICE servers as --ice-server takes them: URLs separated by commas or spaces ("none" clears).
  if (key === 'iceServers' && !text.trim().startsWith('[')) return text.split(/[\s,]+/).filter(Boolean).map(parseIceServerUrl);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function showValue(key: string, v: unknown): string {
  if ((RATE_KEYS as readonly string[]).includes(key) && typeof v === 'number') return `${formatLimit(v)}${v > 0 ? ` (${v})` : ''}`;
  if (v === null) return 'none';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export const settings: Verb = async (inv, out, node) => {
  const [key, value] = inv.positionals;
  const read = async (): Promise<Settings> =>
    node ? node.call<Settings>('settings.get') : storedSettings(inv);
  const known = async () => Object.keys(await read());
  if (key !== undefined && !(await known()).includes(key)) {
    throw new UsageError(`unknown setting "${key}"; the settings are: ${(await known()).join(', ')}`);
  }
  let s: Settings;
  if (value !== undefined) {
    const patch = { [key!]: settingValue(key!, value) };
    s = node ? await node.call<Settings>('settings.set', patch) : await storedSettings(inv, patch);
  } else s = await read();
  const online = node !== undefined;
  if (key !== undefined) {
    out.result({ key, value: s[key], online }, () => `${value !== undefined ? 'set ' : ''}${key} ${showValue(key, s[key])}`);
  } else {
    const width = Math.max(...Object.keys(s).map((k) => k.length));
    out.result({ ...s, online }, () =>
      (online ? '' : '(no running node: stored settings)\n') + Object.entries(s).map(([k, v]) => `${k.padEnd(width)}  ${showValue(k, v)}`).join('\n'),
    );
  }
  return 0;
};
