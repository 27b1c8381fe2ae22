// torrent-get's fields (Transmission 4.0's docs/rpc-spec.md, rpc-version 17), each a function of one
// TorrentView. Fields not listed here (torrentFile, primary-mime-type: Cascade does not keep what
// they need) are skipped like any unknown field, as Transmission skips names it does not know.

import { DEFAULT_IDLE_MINUTES, DEFAULT_RATIO, PEER_LIMIT_PER_TORRENT, labelsOf, statusOf, type TorrentView, type ViewContext } from './torrent-view.ts';

type Field = (v: TorrentView, ctx: ViewContext) => unknown;

const secs = (ms: number | null | undefined): number => (ms ? Math.floor(ms / 1000) : 0);

export const TORRENT_FIELDS: Record<string, Field> = {
  id: (v, c) => c.ids.idOf(v.row.infoHash),
  hashString: (v) => v.row.infoHash,
  name: (v) => v.row.name ?? v.row.infoHash,
  status: (v) => statusOf(v.row),
  error: (v) => (v.row.error ? 3 : 0),
  errorString: (v) => v.row.error ?? '',
  percentDone: (v) => v.percentDone,
  percentComplete: (v) => {
    const total = v.row.length ?? 0;
    return total > 0 ? v.haveValid / total : 0;
  },
  metadataPercentComplete: (v) => (v.row.length !== null ? 1 : 0),
  recheckProgress: (v) => (v.row.state === 'checking' ? (v.row.progress ?? 0) : 0),
  rateDownload: (v) => Math.round(v.row.downloadSpeed),
  rateUpload: (v) => Math.round(v.row.uploadSpeed),
  eta: (v) => v.eta,
  etaIdle: () => -1,
  totalSize: (v) => v.row.length ?? 0,
  sizeWhenDone: (v) => v.sizeWhenDone,
  leftUntilDone: (v) => v.leftUntilDone,
  haveValid: (v) => v.haveValid,
  haveUnchecked: () => 0,
  desiredAvailable: (v) => v.desiredAvailable,
  corruptEver: () => 0,
  downloadedEver: (v) => v.row.totalDownloaded,
  uploadedEver: (v) => v.row.totalUploaded,
  uploadRatio: (v) => (v.row.totalDownloaded === 0 && v.row.verifiedPieces === 0 && v.row.totalUploaded === 0 ? -1 : v.row.ratio),
  peersConnected: (v) => v.row.peers,
  // No peer connected: nothing to count, and no detail to read (transmission-remote -l asks for these of every torrent).
  peersSendingToUs: (v) => (v.row.peers === 0 && v.row.downloadSpeed === 0 ? 0 : v.peerList.filter((p) => p.transport !== 'webseed' && p.downloadSpeed > 0).length),
  peersGettingFromUs: (v) => (v.row.peers === 0 && v.row.uploadSpeed === 0 ? 0 : v.peerList.filter((p) => p.uploadSpeed > 0).length),
  webseedsSendingToUs: (v) => v.peerList.filter((p) => p.transport === 'webseed' && p.downloadSpeed > 0).length,
  webseeds: (v) => v.peerList.filter((p) => p.transport === 'webseed').map((p) => p.address),
  peers: (v) => v.peers(),
  peersFrom: (v) => v.peersFrom(),
  'peer-limit': () => PEER_LIMIT_PER_TORRENT,
  maxConnectedPeers: () => PEER_LIMIT_PER_TORRENT,
  downloadDir: (v, c) => v.row.savePath ?? c.settings.downloadDir,
  labels: (v) => labelsOf(v.row),
  group: (v, c) => c.groups?.groupOf(v.row.infoHash) ?? '',
  isFinished: (v) => v.isFinished,
  isStalled: (v) => v.isStalled,
  isPrivate: (v) => v.info?.isPrivate ?? false,
  queuePosition: (v, c) => c.queue.get(v.row.infoHash) ?? 0,
  addedDate: (v) => v.addedDate,
  doneDate: (v) => secs(v.row.completedAt),
  activityDate: (v) => v.activityDate,
  startDate: (v, c) => c.ids.startedAt(v.row.infoHash),
  editDate: (v, c) => c.ids.changedAt(v.row.infoHash) || v.addedDate,
  manualAnnounceTime: () => -1,
  secondsSeeding: (v) => v.secondsSeeding,
  // Cascade counts seeding time only; a finished download took at most the time from add to done.
  secondsDownloading: (v) => (v.row.completedAt && v.row.addedAt ? Math.max(0, secs(v.row.completedAt) - secs(v.row.addedAt)) : 0),
  seedRatioMode: (v) => (v.row.ratioLimit === null ? 0 : v.row.ratioLimit < 0 ? 2 : 1),
  seedRatioLimit: (v, c) => (v.row.ratioLimit !== null && v.row.ratioLimit >= 0 ? v.row.ratioLimit : (c.settings.ratioLimit ?? DEFAULT_RATIO)),
  seedIdleMode: (v) => (v.row.seedingTimeLimit === null ? 0 : v.row.seedingTimeLimit < 0 ? 2 : 1),
  seedIdleLimit: (v, c) => {
    const own = v.row.seedingTimeLimit;
    const s = own !== null && own >= 0 ? own : c.settings.seedingTimeLimit;
    return s === null ? DEFAULT_IDLE_MINUTES : Math.round(s / 60);
  },
  honorsSessionLimits: () => true,
  bandwidthPriority: () => 0,
  downloadLimit: (v) => v.kbps('down'),
  downloadLimited: (v) => v.row.downloadLimit > 0,
  uploadLimit: (v) => v.kbps('up'),
  uploadLimited: (v) => v.row.uploadLimit > 0,
  magnetLink: (v) => v.info?.magnet ?? `magnet:?xt=urn:btih:${v.row.infoHash}`,
  pieceCount: (v) => v.row.pieceCount ?? 0,
  pieceSize: (v) => v.info?.pieceLength ?? 0,
  comment: (v) => v.info?.comment ?? '',
  creator: (v) => v.info?.createdBy ?? '',
  dateCreated: (v) => secs(v.info?.creationDate),
  source: () => '',
  'file-count': (v) => v.files.length,
  files: (v) => v.files.map((f) => ({ bytesCompleted: Math.round(f.length * f.progress), length: f.length, name: v.fileName(f) })),
  fileStats: (v) => v.files.map((f) => ({ bytesCompleted: Math.round(f.length * f.progress), priority: v.priorityOf(f), wanted: f.selected })),
  priorities: (v) => v.files.map((f) => v.priorityOf(f)),
  // A bitfield of the pieces we have (BEP 3 bit order), base64; '' before the metadata is known.
  pieces: (v) => {
    const p = v.pieceStates;
    if (!p) return '';
    const bits = new Uint8Array(Math.ceil(p.states.length / 8));
    p.states.forEach((st, i) => {
      if (st === 2) bits[i >> 3]! |= 0x80 >> (i & 7);
    });
    return Buffer.from(bits).toString('base64');
  },
  // Connected peers that have each piece, -1 for a piece we have.
  availability: (v) => {
    const p = v.pieceStates;
    return p ? Array.from(p.states, (st, i) => (st === 2 ? -1 : p.availability[i]!)) : [];
  },
  // An array of 0/1, as Transmission 3.00 and 4.0.2+ send it (4.0.0/4.0.1 sent booleans and broke clients).
  wanted: (v) => v.files.map((f) => (f.selected ? 1 : 0)),
  trackers: (v) => v.trackers(),
  trackerList: (v) => v.trackerListText(),
  trackerStats: (v) => v.trackerStats(),
};
