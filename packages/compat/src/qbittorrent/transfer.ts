// transfer/* (transfercontroller.cpp): global rates and totals, the global limits and the
// alternative ("turtle") speed mode, over Cascade's transfer info and settings.
import type { CompatOps, TransferInfo } from '../ops.ts';
import { type ActionContext, type ActionSpec, badRequest, fromOps, intParam, requireParams } from './http.ts';

/** qBittorrent's connection_status: listening and reached from outside, listening only, or not listening. */
function connectionStatus(t: TransferInfo): string {
  if (t.bittorrentPort <= 0) return 'disconnected';
  return t.reachability === 'reachable' ? 'connected' : 'firewalled';
}

/** The limits in force now (the alternative ones while that mode is on), bytes/s, 0 = none. */
export function rateLimits(ops: CompatOps): { dl: number; up: number } {
  const s = ops.settings();
  return s.altSpeedEnabled ? { dl: s.altDownloadLimit, up: s.altUploadLimit } : { dl: s.downloadLimit, up: s.uploadLimit };
}

/** `t`: the node's transfer info when the caller has it already (each read walks every torrent). */
export function transferInfo(ops: CompatOps, t: TransferInfo = ops.transfer()): Record<string, string | number> {
  const l = rateLimits(ops);
  return {
    dl_info_speed: t.downloadSpeed,
    dl_info_data: t.sessionDownloaded,
    up_info_speed: t.uploadSpeed,
    up_info_data: t.sessionUploaded,
    dl_rate_limit: l.dl,
    up_rate_limit: l.up,
    dht_nodes: t.dhtNodes,
    connection_status: connectionStatus(t),
  };
}

async function patch(ctx: ActionContext, p: Parameters<CompatOps['setSettings']>[0]): Promise<undefined> {
  try {
    await ctx.ops.setSettings(p);
  } catch (err) {
    throw fromOps(ctx.ops, err);
  }
  return undefined;
}

function setLimit(which: 'download' | 'upload') {
  return (ctx: ActionContext) => {
    requireParams(ctx, 'limit');
    const limit = intParam(ctx, 'limit');
    if (limit === undefined) throw badRequest("'limit' must be an integer (bytes/s)");
    const s = ctx.ops.settings();
    // The limit of the mode in force changes, as in qBittorrent; ≤ 0 = none.
    const v = Math.max(0, limit);
    const key = s.altSpeedEnabled ? (which === 'download' ? 'altDownloadLimit' : 'altUploadLimit') : which === 'download' ? 'downloadLimit' : 'uploadLimit';
    return patch(ctx, { [key]: v });
  };
}

export const transferActions: Record<string, ActionSpec> = {
  info: { method: 'any', run: (ctx) => transferInfo(ctx.ops) },
  speedLimitsMode: { method: 'any', run: (ctx) => (ctx.ops.settings().altSpeedEnabled ? '1' : '0') },
  toggleSpeedLimitsMode: { method: 'POST', run: (ctx) => patch(ctx, { altSpeedEnabled: !ctx.ops.settings().altSpeedEnabled }) },
  setSpeedLimitsMode: {
    method: 'POST',
    run: (ctx) => {
      requireParams(ctx, 'mode');
      const mode = intParam(ctx, 'mode');
      if (mode === undefined) throw badRequest("'mode': invalid argument");
      return patch(ctx, { altSpeedEnabled: mode !== 0 });
    },
  },
  downloadLimit: { method: 'any', run: (ctx) => String(rateLimits(ctx.ops).dl) },
  uploadLimit: { method: 'any', run: (ctx) => String(rateLimits(ctx.ops).up) },
  setDownloadLimit: { method: 'POST', run: setLimit('download') },
  setUploadLimit: { method: 'POST', run: setLimit('upload') },
};
