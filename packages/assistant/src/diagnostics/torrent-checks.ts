// Checks over one torrent: its state (paused, queued, checking, stuck on metadata, failed), its
// trackers' last answers, whether the DHT can stand in for them, peers, corrupt data, disk and limits.
import type { Finding, NodeHealthView, TorrentView, TrackerView } from '../types.ts';
import {
  bytes, clock, duration, ago, openNetwork, openSettings, patchTorrent, plural, rate, reannounce, recheck, resume, short,
} from './format.ts';
import { AT_LIMIT, diskFull, dhtEmpty, isDiskErrorText, localOnly, nodeLimits, portUnreachable } from './node-checks.ts';

/** Errors of the network (the tracker never answered), as the engine words them; anything else is the tracker's own reply. */
const UNREACHABLE = /timed out|timeout|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|fetch failed|socket hang up|connection refused|tracker HTTP 5\d\d|no data channel/i;

export function trackerAnswered(t: TrackerView): boolean {
  return t.status === 'ok' || (t.lastReplyAt !== undefined && (t.lastErrorAt === undefined || t.lastReplyAt >= t.lastErrorAt));
}

export function trackerFailing(t: TrackerView): boolean {
  return !trackerAnswered(t) && (t.status === 'error' || t.lastError !== undefined);
}

/** A tracker asked and silent since the torrent came (a UDP tracker nobody runs takes 15 s and more per try to time out). */
export const SILENT_AFTER_S = 10;

function trackerSilent(x: TrackerView, t: TorrentView, now: number): boolean {
  return x.status === 'working' && x.lastReplyAt === undefined && x.lastErrorAt === undefined && t.addedAt !== null && now - t.addedAt >= SILENT_AFTER_S * 1000;
}

function trackerUnreachable(t: TrackerView): boolean {
  return UNREACHABLE.test(t.lastError ?? t.message ?? '');
}

/** "udp://host:6969 timed out 5 times since 12:02:11 UTC (last: …, 40 s ago)". */
function trackerFacts(t: TrackerView, now: number): string {
  const n = t.failures ?? 1;
  const reason = t.lastError ?? t.message ?? 'no answer';
  const since = t.failingSince ?? t.lastErrorAt;
  const times = n > 1 ? `failed ${n} times in a row${since ? ` since ${clock(since)}` : ''}` : `failed${t.lastErrorAt ? ` at ${clock(t.lastErrorAt)}` : ''}`;
  const last = t.lastErrorAt ? `, ${ago(t.lastErrorAt, now)}` : '';
  const answered = t.lastReplyAt ? `; it last answered at ${clock(t.lastReplyAt)}` : '; it has never answered';
  if (t.status === 'working' && t.lastErrorAt === undefined && t.lastReplyAt === undefined) return `${t.url} has not answered its first announce yet`;
  return `${t.url} ${times} (last: "${reason}"${last})${answered}`;
}

const wantsData = (t: TorrentView) => t.state === 'downloading' || t.state === 'metadata' || ((t.progress ?? 0) < 1 && t.state !== 'seeding' && t.state !== 'paused' && t.state !== 'queued' && t.state !== 'checking');

function stateFindings(t: TorrentView, h: NodeHealthView): Finding[] {
  const ih = t.infoHash;
  const name = t.name ?? ih;
  switch (t.state) {
    case 'paused':
      return [{
        id: 'paused', severity: 'problem', infoHash: ih,
        title: 'This torrent is paused, so it neither downloads nor uploads',
        evidence: `"${name}" is paused at ${Math.round((t.progress ?? 0) * 100)}%; a paused torrent talks to no tracker and no peer.`,
        entries: ['pause-resume-recheck', 'stalled-download'],
        actions: [resume(ih)],
      }];
    case 'queued':
      return [{
        id: 'queued', severity: 'warning', infoHash: ih,
        title: 'This torrent is waiting in the queue for a free slot',
        evidence: `"${name}" is queued${t.queuePosition != null ? ` at position ${t.queuePosition}` : ''}; at most ${h.maxActiveDownloads} downloads run at once${h.queuedTorrents ? ` and ${plural(h.queuedTorrents, 'torrent')} wait` : ''}.`,
        entries: ['queue'],
        actions: [
          patchTorrent('force-start', 'Force start', ih, { forceStart: true }, `cascade force-start ${short(ih)}`),
          openSettings('Raise the queue limits'),
        ],
      }];
    case 'checking':
      return [{
        id: 'checking', severity: 'info', infoHash: ih,
        title: 'This torrent is checking its data on disk',
        evidence: `"${name}" is hashing what it has (${Math.round((t.progress ?? 0) * 100)}% verified so far); it downloads once the check ends.`,
        entries: ['pause-resume-recheck'],
        actions: [],
      }];
    case 'error': {
      if (isDiskErrorText(t.error)) {
        return [{
          id: 'disk-error', severity: 'problem', infoHash: ih,
          title: 'This torrent stopped because the disk refused to store its data',
          evidence: `"${name}" stopped with: ${t.error}${t.savePath ? ` (saving to ${t.savePath})` : ''}.`,
          entries: ['disk-errors'],
          actions: [openSettings('Choose another download folder'), recheck(ih), resume(ih)],
        }];
      }
      return [{
        id: 'torrent-error', severity: 'problem', infoHash: ih,
        title: 'This torrent stopped with an error',
        evidence: `"${name}" stopped with: ${t.error ?? 'an unknown error'}.`,
        entries: ['stalled-download'],
        actions: [recheck(ih), resume(ih)],
      }];
    }
  }
  return [];
}

function trackerFindings(t: TorrentView, h: NodeHealthView, now: number): Finding[] {
  const ih = t.infoHash;
  const out: Finding[] = [];
  const failing = t.trackers.filter(trackerFailing);
  const working = t.trackers.filter(trackerAnswered);
  const silent = t.trackers.filter((x) => trackerSilent(x, t, now));
  const allFail = t.trackers.length > 0 && working.length === 0 && failing.length + silent.length > 0;
  const unreachable = [...failing.filter(trackerUnreachable), ...silent];
  const refused = failing.filter((x) => !trackerUnreachable(x));
  const only = t.trackers.length === 1 ? 'Its only tracker' : allFail ? 'None of its trackers' : undefined;
  if (unreachable.length > 0) {
    out.push({
      id: 'tracker-unreachable', severity: allFail ? 'problem' : 'warning', infoHash: ih,
      title: only === 'Its only tracker' ? 'Its only tracker does not answer' : allFail ? 'None of its trackers answers' : `${plural(unreachable.length, 'tracker')} of ${t.trackers.length} ${unreachable.length === 1 ? 'does' : 'do'} not answer`,
      evidence: `${unreachable.map((x) => trackerFacts(x, now)).join('; ')}${silent.length > 0 && t.addedAt !== null ? ` (the torrent was added ${ago(t.addedAt, now)})` : ''}.${working.length > 0 ? ` ${plural(working.length, 'other tracker')} answered.` : ''}`,
      entries: ['tracker-errors', 'stalled-download'],
      actions: [reannounce(ih)],
    });
  }
  if (refused.length > 0) {
    out.push({
      id: 'tracker-error', severity: allFail ? 'problem' : 'warning', infoHash: ih,
      title: refused.length === 1 ? `The tracker refused the announce: "${refused[0]!.lastError ?? refused[0]!.message}"` : `${plural(refused.length, 'tracker')} refused the announce`,
      evidence: `${refused.map((x) => trackerFacts(x, now)).join('; ')}.`,
      entries: ['tracker-errors', ...(t.isPrivate ? ['private-torrents'] : [])],
      actions: [reannounce(ih)],
    });
  }
  // Trackers failing: can the DHT find peers instead?
  const noTracker = t.trackers.length === 0 || allFail;
  if (noTracker && wantsData(t)) {
    const trackers = t.trackers.length === 0 ? 'it has no trackers' : 'its trackers fail';
    if (t.isPrivate) {
      out.push({
        id: 'private-no-dht', severity: 'problem', infoHash: ih,
        title: 'A private torrent whose trackers fail cannot find peers any other way',
        evidence: `"${t.name ?? ih}" is private, so the DHT and peer exchange are off for it by design, and ${trackers}.`,
        entries: ['private-torrents', 'tracker-errors'],
        actions: [reannounce(ih)],
      });
    } else if (!h.dhtEnabled) {
      out.push({
        id: 'no-dht', severity: 'problem', infoHash: ih,
        title: `The DHT is off, and ${trackers}: nothing else can find peers`,
        evidence: `DHT disabled on this node; ${trackers}${t.trackers.length > 0 ? ` (${t.trackers.map((x) => x.url).join(', ')})` : ''}.`,
        entries: ['dht', 'stalled-download'],
        actions: [openNetwork()],
      });
    } else {
      const empty = dhtEmpty(h);
      if (empty) out.push({ ...empty, infoHash: ih, severity: 'problem', evidence: `${empty.evidence} And ${trackers}.` });
    }
  }
  return out;
}

function peerFindings(t: TorrentView, h: NodeHealthView): Finding[] {
  const ih = t.infoHash;
  const out: Finding[] = [];
  if (t.stalledReason) {
    out.push({
      id: 'metadata-stuck', severity: 'problem', infoHash: ih,
      title: 'This magnet has not found anyone who can send its metadata',
      evidence: t.stalledReason,
      entries: ['metadata-stuck', 'stalled-download'],
      actions: [reannounce(ih)],
    });
  } else if (wantsData(t) && t.peers === 0) {
    const trackerPeers = t.trackers.reduce((n, x) => n + (trackerAnswered(x) ? x.peers : 0), 0);
    out.push({
      id: 'no-peers', severity: 'problem', infoHash: ih,
      title: 'No peers are connected to this torrent',
      evidence:
        `"${t.name ?? ih}" has 0 peers${t.stalledSeconds && t.stalledSeconds >= 30 ? ` and has received nothing for ${duration(t.stalledSeconds)}` : ''}; ` +
        `trackers gave ${plural(trackerPeers, 'peer')}; DHT ${h.dhtEnabled ? `on (${plural(h.dhtNodes, 'node')})` : 'off'}.`,
      entries: ['stalled-download', 'no-peers'],
      actions: [reannounce(ih)],
    });
  }
  if ((t.hashFailures ?? 0) > 0) {
    out.push({
      id: 'hash-failures', severity: 'warning', infoHash: ih,
      title: 'Some pieces of this torrent arrived corrupt and were thrown away',
      evidence: `${plural(t.hashFailures!, 'piece')} of "${t.name ?? ih}" failed the hash check; they are downloaded again, from other peers.`,
      entries: ['hash-failures-banned-peers'],
      actions: [recheck(ih)],
    });
  }
  if ((t.bannedPeers?.length ?? 0) > 0) {
    const list = t.bannedPeers!;
    out.push({
      id: 'banned-peers', severity: 'warning', infoHash: ih,
      title: `${plural(list.length, 'peer')} sent corrupt data and ${list.length === 1 ? 'was' : 'were'} banned`,
      evidence: `Banned for sending pieces that failed their hash check: ${list.slice(0, 5).join(', ')}${list.length > 5 ? ` and ${list.length - 5} more` : ''}. Cascade no longer talks to them.`,
      entries: ['hash-failures-banned-peers'],
      actions: [],
    });
  }
  return out;
}

function limitFindings(t: TorrentView, h: NodeHealthView): Finding[] {
  const ih = t.infoHash;
  const out: Finding[] = [];
  const own = [
    t.downloadLimit > 0 && t.downloadSpeed >= t.downloadLimit * AT_LIMIT ? `downloads at ${rate(t.downloadSpeed)} against its own limit of ${rate(t.downloadLimit)}` : '',
    t.uploadLimit > 0 && t.uploadSpeed >= t.uploadLimit * AT_LIMIT ? `uploads at ${rate(t.uploadSpeed)} against its own limit of ${rate(t.uploadLimit)}` : '',
  ].filter(Boolean);
  if (own.length > 0) {
    out.push({
      id: 'speed-limited', severity: 'info', infoHash: ih,
      title: 'This torrent’s own speed limit is what holds it back',
      evidence: `"${t.name ?? ih}" ${own.join(' and ')}.`,
      entries: ['speed-limits'],
      actions: [patchTorrent('remove-torrent-limit', 'Remove its limits', ih, { downloadLimit: 0, uploadLimit: 0 }, `cascade limits --down 0 --up 0 ${short(ih)}`)],
    });
  }
  if (t.state === 'downloading' || t.state === 'seeding') {
    const node = nodeLimits(h, [t]);
    if (node && (node.id === 'turtle-mode' || own.length === 0)) out.push({ ...node, infoHash: ih });
  }
  return out;
}

export function torrentChecks(t: TorrentView, h: NodeHealthView, now: number): Finding[] {
  const out: Finding[] = [...stateFindings(t, h)];
  const running = t.state !== 'paused' && t.state !== 'queued' && t.state !== 'error';
  if (running) out.push(...trackerFindings(t, h, now), ...peerFindings(t, h));
  else if ((t.hashFailures ?? 0) > 0 || (t.bannedPeers?.length ?? 0) > 0) out.push(...peerFindings(t, h).filter((f) => f.id !== 'no-peers' && f.id !== 'metadata-stuck'));
  if (t.state !== 'seeding') {
    const disk = diskFull(h, [{ ...t, state: t.state === 'paused' || t.state === 'queued' ? 'downloading' : t.state }], t.savePath, t.disk ?? h.disk);
    if (disk) out.push({ ...disk, infoHash: t.infoHash });
  }
  if (running) out.push(...limitFindings(t, h));
  // Reachability explains a torrent that finds few peers (or a seed nobody downloads from).
  const local = localOnly(h);
  if (local) out.push(local);
  else if (running && t.peers === 0) {
    const port = portUnreachable(h, now);
    if (port) out.push(port);
  }
  if (out.length === 0) {
    out.push({
      id: 'no-problem-found', severity: 'ok', infoHash: t.infoHash,
      title: 'Nothing looks wrong with this torrent',
      evidence: `"${t.name ?? t.infoHash}" is ${t.state} at ${Math.round((t.progress ?? 0) * 100)}% with ${plural(t.peers, 'peer')} (${rate(t.downloadSpeed)} down, ${rate(t.uploadSpeed)} up)` +
        `${t.trackers.length > 0 ? `; ${plural(t.trackers.filter(trackerAnswered).length, 'tracker')} of ${t.trackers.length} answered` : ''}${t.length ? `; size ${bytes(t.length)}` : ''}.`,
      entries: ['slow-download'],
      actions: [],
    });
  }
  return out;
}
