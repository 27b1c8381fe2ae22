// app/*: versions, build info and the preferences (appcontroller.cpp), mapped onto Cascade's settings.
import type { NodeSettings } from '../ops.ts';
import { type ActionContext, type ActionSpec, badRequest, fromOps, requireParams } from './http.ts';
import { BAN_DURATION_S, MAX_AUTH_FAILS, SESSION_TIMEOUT_S } from './session.ts';

/**
 * The qBittorrent and WebAPI versions declared. 4.6.7 / 2.9.3 is the last 4.x: Sonarr and Radarr
 * need WebAPI ≥ 2.0 (categories via torrents/createCategory), use content_path from 2.6.1 on and
 * send ratio/seeding limits with torrents/add from 2.8.1 on; @ctrl/qbittorrent uses pause/resume
 * and the pausedDL/pausedUP states below 5.0. Both names (pause|stop, resume|start) are served.
 */
export const QB_VERSION = 'v4.6.7';
export const WEBAPI_VERSION = '2.9.3';

/** qBittorrent's max_ratio_act values that Cascade's seedingLimitAction can express. */
const RATIO_ACTIONS: Record<number, 'pause' | 'remove'> = { 0: 'pause', 1: 'remove' };

function queueingEnabled(s: NodeSettings): boolean {
  return s.maxActiveDownloads > 0 || s.maxActiveUploads > 0 || s.maxActiveTorrents > 0;
}

/** Cascade's 0 = "no limit" is qBittorrent's -1. */
const qbMax = (v: number): number => (v > 0 ? v : -1);

export function preferences(ctx: ActionContext): Record<string, unknown> {
  const s = ctx.ops.settings();
  const t = ctx.ops.transfer();
  return {
    locale: 'en',
    save_path: s.downloadDir,
    temp_path_enabled: false,
    temp_path: '',
    create_subfolder_enabled: true,
    torrent_content_layout: 'Original',
    start_paused_enabled: s.startPaused,
    auto_tmm_enabled: false,
    torrent_changed_tmm_enabled: true,
    save_path_changed_tmm_enabled: false,
    category_changed_tmm_enabled: false,
    use_subcategories: false,
    preallocate_all: false,
    incomplete_files_ext: false,
    add_to_top_of_queue: false,
    dl_limit: s.downloadLimit,
    up_limit: s.uploadLimit,
    alt_dl_limit: s.altDownloadLimit,
    alt_up_limit: s.altUploadLimit,
    scheduler_enabled: false,
    queueing_enabled: queueingEnabled(s),
    max_active_downloads: qbMax(s.maxActiveDownloads),
    max_active_uploads: qbMax(s.maxActiveUploads),
    max_active_torrents: qbMax(s.maxActiveTorrents),
    max_active_checking_torrents: qbMax(s.maxActiveChecks),
    dont_count_slow_torrents: s.stalledTimeout > 0,
    max_ratio_enabled: s.ratioLimit !== null && s.ratioLimit >= 0,
    max_ratio: s.ratioLimit !== null && s.ratioLimit >= 0 ? s.ratioLimit : -1,
    max_seeding_time_enabled: s.seedingTimeLimit !== null && s.seedingTimeLimit >= 0,
    max_seeding_time: s.seedingTimeLimit !== null && s.seedingTimeLimit >= 0 ? Math.round(s.seedingTimeLimit / 60) : -1,
    max_inactive_seeding_time_enabled: false,
    max_inactive_seeding_time: -1,
    max_ratio_act: s.seedingLimitAction === 'remove' ? 1 : 0,
    listen_port: t.bittorrentPort,
    random_port: false,
    upnp: s.portMapping !== undefined && s.portMapping !== 'off',
    dht: t.dhtEnabled,
    pex: true,
    lsd: false,
    encryption: 0,
    anonymous_mode: false,
    add_trackers_enabled: false,
    add_trackers: '',
    web_ui_username: 'cascade',
    web_ui_session_timeout: SESSION_TIMEOUT_S,
    web_ui_max_auth_fail_count: MAX_AUTH_FAILS,
    web_ui_ban_duration: BAN_DURATION_S,
    web_ui_csrf_protection_enabled: true,
    web_ui_clickjacking_protection_enabled: true,
    web_ui_secure_cookie_enabled: false,
    web_ui_host_header_validation_enabled: true,
    bypass_local_auth: false,
    bypass_auth_subnet_whitelist_enabled: false,
    bypass_auth_subnet_whitelist: '',
    alternative_webui_enabled: false,
    refresh_interval: 1500,
  };
}

function finiteNumber(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`'${key}' must be a number`);
  return v;
}

function boolean(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw badRequest(`'${key}' must be true or false`);
  return v;
}

/**
 * app/setPreferences: the keys that have a Cascade setting are applied (together, or none when one
 * is bad); the others are accepted and ignored, as qBittorrent ignores keys it does not know.
 */
async function setPreferences(ctx: ActionContext): Promise<undefined> {
  requireParams(ctx, 'json');
  let m: unknown;
  try {
    m = JSON.parse(ctx.params.get('json')!);
  } catch {
    throw badRequest("'json' is not valid JSON");
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw badRequest("'json' must be a JSON object");
  const o = m as Record<string, unknown>;
  const cur = ctx.ops.settings();
  const patch: Partial<NodeSettings> = {};
  const limit = (key: string) => Math.max(0, Math.round(finiteNumber(key, o[key])));
  if ('save_path' in o) {
    if (typeof o.save_path !== 'string' || o.save_path.trim() === '') throw badRequest("'save_path' must be a path");
    patch.downloadDir = o.save_path.trim();
  }
  if ('dl_limit' in o) patch.downloadLimit = limit('dl_limit');
  if ('up_limit' in o) patch.uploadLimit = limit('up_limit');
  if ('alt_dl_limit' in o) patch.altDownloadLimit = limit('alt_dl_limit');
  if ('alt_up_limit' in o) patch.altUploadLimit = limit('alt_up_limit');
  if ('start_paused_enabled' in o) patch.startPaused = boolean('start_paused_enabled', o.start_paused_enabled);
  // qBittorrent's one switch for UPnP and NAT-PMP: on keeps the protocol chosen, or auto.
  if ('upnp' in o && cur.portMapping !== undefined) {
    patch.portMapping = boolean('upnp', o.upnp) ? (cur.portMapping !== 'off' ? cur.portMapping : 'auto') : 'off';
  }
  // qBittorrent's -1 (and Cascade's 0) = no limit.
  const max = (key: string) => Math.max(0, Math.round(finiteNumber(key, o[key])));
  if ('max_active_downloads' in o) patch.maxActiveDownloads = max('max_active_downloads');
  if ('max_active_uploads' in o) patch.maxActiveUploads = max('max_active_uploads');
  if ('max_active_torrents' in o) patch.maxActiveTorrents = max('max_active_torrents');
  if ('max_active_checking_torrents' in o) patch.maxActiveChecks = max('max_active_checking_torrents');
  if ('queueing_enabled' in o) {
    // Cascade's queue is "off" when no maximum is set: turning queueing off clears them; turning it
    // on with none set takes qBittorrent's default of 3 downloads.
    if (!boolean('queueing_enabled', o.queueing_enabled)) {
      patch.maxActiveDownloads = 0;
      patch.maxActiveUploads = 0;
      patch.maxActiveTorrents = 0;
    } else {
      const next = { ...cur, ...patch };
      if (!queueingEnabled(next)) patch.maxActiveDownloads = 3;
    }
  }
  if ('max_ratio_enabled' in o) {
    patch.ratioLimit = boolean('max_ratio_enabled', o.max_ratio_enabled)
      ? Math.max(0, finiteNumber('max_ratio', 'max_ratio' in o ? o.max_ratio : cur.ratioLimit ?? 1))
      : null;
  } else if ('max_ratio' in o) {
    const v = finiteNumber('max_ratio', o.max_ratio);
    patch.ratioLimit = v < 0 ? null : v;
  }
  if ('max_seeding_time_enabled' in o) {
    patch.seedingTimeLimit = boolean('max_seeding_time_enabled', o.max_seeding_time_enabled)
      ? Math.max(0, Math.round(finiteNumber('max_seeding_time', 'max_seeding_time' in o ? o.max_seeding_time : (cur.seedingTimeLimit ?? 0) / 60))) * 60
      : null;
  } else if ('max_seeding_time' in o) {
    const v = finiteNumber('max_seeding_time', o.max_seeding_time);
    patch.seedingTimeLimit = v < 0 ? null : Math.round(v) * 60;
  }
  if ('max_ratio_act' in o) {
    const action = RATIO_ACTIONS[finiteNumber('max_ratio_act', o.max_ratio_act)];
    if (!action) throw badRequest("'max_ratio_act': Cascade can pause (0) or remove (1) a torrent that reached its goal");
    patch.seedingLimitAction = action;
  }
  if (Object.keys(patch).length === 0) return undefined;
  try {
    await ctx.ops.setSettings(patch);
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

export const appActions: Record<string, ActionSpec> = {
  version: { method: 'any', run: () => QB_VERSION },
  webapiVersion: { method: 'any', run: () => WEBAPI_VERSION },
  buildInfo: {
    method: 'any',
    run: (ctx) => ({
      // Cascade links none of qBittorrent's libraries; these say what actually serves the API.
      qt: 'none',
      libtorrent: `cascade ${ctx.ops.version}`,
      boost: 'none',
      openssl: process.versions.openssl ?? 'none',
      zlib: process.versions.zlib ?? 'none',
      bitness: 64,
    }),
  },
  preferences: { method: 'any', run: preferences },
  setPreferences: { method: 'POST', run: setPreferences },
  defaultSavePath: { method: 'any', run: (ctx) => ctx.ops.settings().downloadDir },
};
