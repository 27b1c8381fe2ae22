// Checks over the node as a whole: can anyone reach it, does it have a DHT, is the disk full or
// failing, are limits or turtle mode holding it back. They run for every question; the torrent
// checks reuse the ones that explain a torrent without peers.
import type { Finding, NodeHealthView, TorrentView } from '../types.ts';
import { ago, bytes, duration, openNetwork, openSettings, patchSettings, plural, rate } from './format.ts';

/** A node up this long with nobody dialling in is probably not reachable (not merely new). */
export const NO_INCOMING_AFTER_S = 20 * 60;
/** An enabled DHT still empty after this long is cut off (no bootstrap, UDP blocked). */
export const DHT_EMPTY_AFTER_S = 60;
/** Below this much free space nothing can be written safely, whatever a torrent still needs. */
export const MIN_FREE_BYTES = 8 * 1024 * 1024;
/** A transfer at this share of its limit is held back by it. */
export const AT_LIMIT = 0.8;

/** A torrent that has trackers and none of them answered since its last failure. */
function allTrackersFail(t: TorrentView): boolean {
  if (t.trackers.length === 0) return false;
  return t.trackers.every((x) => x.status !== 'ok' && (x.lastReplyAt === undefined || (x.lastErrorAt !== undefined && x.lastErrorAt > x.lastReplyAt)) && x.lastError !== undefined);
}

const DISK_ERROR = /\b(ENOSPC|EACCES|EPERM|EIO|EROFS|EDQUOT|EMFILE)\b|disk error|no space left|permission denied|read-only file system/i;

export function isDiskErrorText(text: string | null | undefined): boolean {
  return typeof text === 'string' && DISK_ERROR.test(text);
}

export function localOnly(h: NodeHealthView): Finding | undefined {
  if (h.reachability !== 'local-only') return undefined;
  return {
    id: 'local-only',
    severity: 'problem',
    title: 'Your node only listens on this machine, so no other computer can connect to it',
    evidence: `The BitTorrent listener is bound to ${h.bittorrentHost}:${h.bittorrentPort} (loopback); peers elsewhere can neither dial in nor be reached from it.`,
    entries: ['reachability', 'port-forwarding', 'stalled-download'],
    actions: [openNetwork()],
  };
}

export function portUnreachable(h: NodeHealthView, now: number): Finding | undefined {
  if (h.reachability !== 'unknown' || h.incomingPeers > 0) return undefined;
  // Nobody dialled in for a long while (or ever, on a node up long enough): the port is probably not forwarded.
  const since = h.lastIncomingAt;
  const quietS = since !== undefined ? (now - since) / 1000 : h.uptimeSeconds;
  if (quietS < NO_INCOMING_AFTER_S) return undefined;
  const when = since !== undefined ? `the last one was ${ago(since, now)}` : `none since the node started ${duration(h.uptimeSeconds)} ago`;
  return {
    id: 'port-unreachable',
    severity: 'warning',
    title: `Nobody has connected in to your node for ${duration(quietS)}: port ${h.bittorrentPort} is probably not forwarded`,
    evidence:
      `Listening on ${h.bittorrentHost}:${h.bittorrentPort} with 0 incoming peers (${when}); ${plural(h.peers, 'peer')} connected, all dialled by us. ` +
      'Without incoming connections you can only reach peers that can be reached themselves.',
    entries: ['port-forwarding', 'reachability'],
    actions: [openNetwork(), openSettings()],
  };
}

export function noDht(h: NodeHealthView): Finding | undefined {
  if (h.dhtEnabled) return undefined;
  return {
    id: 'no-dht',
    severity: 'info',
    title: 'The DHT is off, so torrents find peers only through their trackers',
    evidence: 'The node runs without a DHT (serve was started with it off); magnets without trackers and torrents whose trackers fail cannot find anyone.',
    entries: ['dht'],
    actions: [openNetwork()],
  };
}

export function dhtEmpty(h: NodeHealthView): Finding | undefined {
  if (!h.dhtEnabled || h.dhtNodes > 0 || h.uptimeSeconds < DHT_EMPTY_AFTER_S) return undefined;
  return {
    id: 'dht-empty',
    severity: 'warning',
    title: 'The DHT is on but knows no other nodes',
    evidence: `0 DHT nodes after ${duration(h.uptimeSeconds)} of uptime: the bootstrap routers did not answer (UDP blocked, or no internet).`,
    entries: ['dht-no-nodes', 'dht', 'port-forwarding'],
    actions: [openNetwork()],
  };
}

/** Free space against what downloads still need (one torrent's, or all that download). */
export function diskFull(h: NodeHealthView, torrents: TorrentView[], savePath?: string | null, disk = h.disk): Finding | undefined {
  if (!disk) return undefined;
  const wanting = torrents.filter((t) => t.state !== 'seeding' && t.state !== 'paused' && (t.remainingBytes ?? 0) > 0);
  const needed = wanting.reduce((n, t) => n + (t.remainingBytes ?? 0), 0);
  const { free } = disk;
  if (free >= MIN_FREE_BYTES && free >= needed) return undefined;
  const where = savePath ?? h.downloadDir;
  const what =
    wanting.length === 1
      ? `"${wanting[0]!.name ?? wanting[0]!.infoHash}" still needs ${bytes(needed)}`
      : wanting.length > 1
        ? `${plural(wanting.length, 'download')} still need ${bytes(needed)}`
        : 'nothing more can be written safely';
  return {
    id: 'disk-full',
    severity: 'problem',
    title: free < MIN_FREE_BYTES ? 'The disk your downloads go to is full' : 'The disk your downloads go to does not have room for what is left to download',
    evidence: `${bytes(free)} free of ${bytes(disk.total)} at ${where}; ${what}.`,
    ...(wanting.length === 1 ? { infoHash: wanting[0]!.infoHash } : {}),
    entries: ['disk-errors'],
    actions: [openSettings('Choose another download folder')],
  };
}

export function diskErrors(h: NodeHealthView, torrents: TorrentView[]): Finding | undefined {
  const failed = torrents.filter((t) => isDiskErrorText(t.error));
  const count = h.diskErrors ?? 0;
  if (count === 0 && failed.length === 0) return undefined;
  const named = failed.slice(0, 3).map((t) => `"${t.name ?? t.infoHash}": ${t.error}`);
  return {
    id: 'disk-error',
    severity: 'problem',
    title: 'Writing or reading downloads failed on the disk',
    evidence: [
      count > 0 ? `${plural(count, 'disk error')} since the node started` : '',
      named.length > 0 ? `stopped with an error: ${named.join('; ')}` : '',
    ].filter(Boolean).join('; ') + '.',
    ...(failed.length === 1 ? { infoHash: failed[0]!.infoHash } : {}),
    entries: ['disk-errors'],
    actions: [openSettings('Choose another download folder')],
  };
}

export function hashFailuresNode(h: NodeHealthView, torrents: TorrentView[]): Finding | undefined {
  const count = h.hashFailures ?? 0;
  if (count === 0) return undefined;
  const hit = torrents.filter((t) => (t.hashFailures ?? 0) > 0).slice(0, 3);
  return {
    id: 'hash-failures',
    severity: 'warning',
    title: 'Some downloaded pieces were corrupt and were thrown away',
    evidence: `${plural(count, 'piece')} failed the hash check since the node started${hit.length > 0 ? ` (${hit.map((t) => `"${t.name ?? t.infoHash}": ${t.hashFailures}`).join(', ')})` : ''}; they are downloaded again from other peers.`,
    entries: ['hash-failures-banned-peers'],
    actions: [],
  };
}

/** Turtle mode, or a node-wide limit the transfers run into. */
export function nodeLimits(h: NodeHealthView, torrents: TorrentView[]): Finding | undefined {
  const down = torrents.reduce((n, t) => n + t.downloadSpeed, 0);
  const up = torrents.reduce((n, t) => n + t.uploadSpeed, 0);
  if (h.altSpeedEnabled) {
    const lim = `${h.altDownloadLimit ? rate(h.altDownloadLimit) : 'unlimited'} down, ${h.altUploadLimit ? rate(h.altUploadLimit) : 'unlimited'} up`;
    return {
      id: 'turtle-mode',
      severity: 'warning',
      title: 'Turtle mode (the alternative speed limits) is on',
      evidence: `Alternative limits in force: ${lim}; the node moves ${rate(down)} down and ${rate(up)} up now.`,
      entries: ['speed-limits'],
      actions: [patchSettings('turtle-off', 'Turn turtle mode off', { altSpeedEnabled: false }, 'cascade limits --alt off'), openSettings()],
    };
  }
  const hitDown = h.downloadLimit > 0 && down >= h.downloadLimit * AT_LIMIT;
  const hitUp = h.uploadLimit > 0 && up >= h.uploadLimit * AT_LIMIT;
  if (!hitDown && !hitUp) return undefined;
  const parts = [
    hitDown ? `downloads run at ${rate(down)} against a node-wide limit of ${rate(h.downloadLimit)}` : '',
    hitUp ? `uploads run at ${rate(up)} against a node-wide limit of ${rate(h.uploadLimit)}` : '',
  ].filter(Boolean);
  return {
    id: 'speed-limited',
    severity: 'info',
    title: 'Your own node-wide speed limit is what holds transfers back',
    evidence: `${parts.join('; ')}.`,
    entries: ['speed-limits'],
    actions: [
      patchSettings('remove-node-limit', 'Remove the node-wide limits', { downloadLimit: 0, uploadLimit: 0 }, 'cascade limits --down 0 --up 0'),
      openSettings(),
    ],
  };
}

/** Downloads whose every tracker fails (the light views carry trackers for those that want data). */
export function trackersFailing(h: NodeHealthView, torrents: TorrentView[], failing: (t: TorrentView) => boolean): Finding | undefined {
  const stuck = torrents.filter(failing);
  if (stuck.length === 0) return undefined;
  const named = stuck.slice(0, 3).map((t) => {
    const tr = t.trackers[0]!;
    return `"${t.name ?? t.infoHash}" (${tr.url}: ${tr.lastError ?? tr.message ?? 'no answer'}${tr.failures && tr.failures > 1 ? `, ${tr.failures} times in a row` : ''})`;
  });
  return {
    id: 'tracker-unreachable',
    severity: h.dhtEnabled ? 'warning' : 'problem',
    title: `${plural(stuck.length, 'download')} cannot reach any of ${stuck.length === 1 ? 'its' : 'their'} trackers`,
    evidence: `${named.join('; ')}${stuck.length > 3 ? ` and ${stuck.length - 3} more` : ''}; DHT ${h.dhtEnabled ? `on (${plural(h.dhtNodes, 'node')})` : 'off'}.`,
    ...(stuck.length === 1 ? { infoHash: stuck[0]!.infoHash } : {}),
    entries: ['tracker-errors', 'stalled-download'],
    actions: stuck.length === 1
      ? [{ id: 'reannounce', label: 'Re-announce now', request: { method: 'POST', path: `/api/torrents/${stuck[0]!.infoHash}/announce` }, command: `cascade announce ${stuck[0]!.infoHash.slice(0, 8)}` }]
      : [{ id: 'reannounce-all', label: 'Re-announce all', command: 'cascade announce' }],
  };
}

/** Every node-wide check, in the order an answer should read them. */
export function nodeChecks(h: NodeHealthView, torrents: TorrentView[], now: number): Finding[] {
  return [
    diskFull(h, torrents),
    diskErrors(h, torrents),
    localOnly(h),
    portUnreachable(h, now),
    dhtEmpty(h),
    noDht(h),
    trackersFailing(h, torrents, allTrackersFail),
    hashFailuresNode(h, torrents),
    nodeLimits(h, torrents),
  ].filter((f): f is Finding => f !== undefined);
}
