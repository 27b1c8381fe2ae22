// REST client for the node's HTTP API (packages/http). Same origin as the page: fetch sends the
// session cookie by itself. 401/403 become messages a person can act on, and tell the auth store
// (auth.ts) to look again, since they usually mean the session ended or the role changed.

import type {
  AddResult, BulkAction, BulkRequest, BulkResponse, Category, FileView as FileInfo, NetworkStatus, PeerView, PieceMap, PlainDownloadView as PlainDownload, SearchRow,
  TorrentDetail as NodeTorrentDetail, TrackerStatus,
} from '@cascade/shapes';

// The node's own shapes (@cascade/shapes): what it answers to adds and bulk actions, categories, a
// torrent's files, peers and trackers, GET /api/network, plain downloads, search results.
export type { AddResult, BulkAction, BulkRequest, BulkResponse, Category, FileInfo, NetworkStatus, PeerView, PlainDownload, SearchRow, TrackerStatus };

export type TorrentState = 'metadata' | 'checking' | 'downloading' | 'seeding' | 'paused' | 'error' | string;

/** One torrent as the list shows it. Built by normaliseSummary from whatever the node sends (the
 *  server's ListEntry calls the hash `infoHash`; engine stats call it `infoHashHex`). */
export interface TorrentSummary {
  infoHashHex: string;
  name: string | undefined | null;
  state: TorrentState;
  /** 0..1 (0 while a magnet still fetches metadata). */
  progress: number;
  length: number | undefined | null;
  /** undefined when the node does not report it. */
  downloaded: number | undefined;
  uploaded: number | undefined;
  downloadSpeed: number;
  uploadSpeed: number;
  /** Seconds; null when unknown (JSON turns Infinity into null). */
  eta: number | null;
  peers: number;
  seeds: number | undefined;
  error?: string | null;
  magnet?: string;
  savePath?: string | null;
  /** Organising fields of issue 20 (absent from nodes that predate them). */
  category?: string | null;
  tags?: string[];
  /** First tracker's host, or null. */
  tracker?: string | null;
  /** 1-based among torrents not complete; null for complete ones. */
  queuePosition?: number | null;
  ratio?: number | null;
  /** Unix milliseconds. */
  addedAt?: number | null;
  /** A private share (issue 24); decryptable: this node can read it (when not, `error` says why). */
  encrypted?: boolean;
  decryptable?: boolean;
  /** Checking, and waiting its turn to (the node checks a few torrents at a time). */
  checkWaiting?: boolean;
}

/** One torrent as the detail panel shows it: the node's TorrentDetail (@cascade/shapes), normalised
 *  by normaliseDetail as the list's rows are (older nodes and engine stats send less). */
export interface TorrentDetailView extends TorrentSummary {
  peersList?: PeerView[];
  trackers: TrackerStatus[];
  files: FileInfo[];
  magnet?: string;
  /** BEP 52: a v2 or hybrid torrent's v2 infohash (64 hex). */
  infoHashV2?: string;
  /** v1, v2 or hybrid, once the metadata is known. */
  version?: NonNullable<NodeTorrentDetail['version']>;
  pieceLength?: number;
  pieceCount?: number;
  comment?: string;
  /** The node's document as sent (the detail panel's options read theirs from it). */
  raw?: Record<string, unknown>;
}

export type Health = Record<string, unknown> & {
  bittorrentPort?: number;
  peers?: number;
  dhtNodes?: number;
};

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

let onAuthProblem: ((status: number) => void) | undefined;

/** Called with 401 or 403 from any route but /api/auth/* (auth.ts re-reads who it is then). */
export function setAuthProblemHandler(fn: ((status: number) => void) | undefined): void {
  onAuthProblem = fn;
}

/** The text a person sees for a failed call: the node's own message, with what 401/403 mean. */
export function describeFailure(status: number, serverMessage: string | undefined, path: string): string {
  const said = serverMessage && !/^(unauthorized|forbidden)$/i.test(serverMessage.trim()) ? ` (${serverMessage})` : '';
  if (status === 401) return `You are not signed in to this node, or your session has ended — sign in again.${said}`;
  if (status === 403 && path.startsWith('/api/auth/claim')) return `This node cannot be claimed with that code${said}`;
  if (status === 403) return `Only the node's owner and members may do this; you are signed in as a visitor.${said}`;
  return serverMessage || `${status}`;
}

function reportAuthProblem(status: number, path: string): void {
  if ((status === 401 || status === 403) && !path.startsWith('/api/auth/')) onAuthProblem?.(status);
}

export async function errorOf(res: Response, path: string): Promise<ApiError> {
  let message: string | undefined;
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { message?: string; error?: string };
      message = body.message ?? body.error;
    } catch {
      if (text) message = text.slice(0, 300);
    }
  } catch {}
  reportAuthProblem(res.status, path);
  return new ApiError(res.status, describeFailure(res.status, message ?? `${res.status} ${res.statusText}`, path));
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(path, init);
  if (!res.ok) throw await errorOf(res, path);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const h = (infoHash: string) => encodeURIComponent(infoHash);

export const api = {
  list: async () => normaliseList(await request<unknown>('GET', '/api/torrents')),
  /** The detail document: stats + peers + trackers + files. The server calls the peer list `peers`
   *  (an array), which clashes with the stats' peer count, so it is normalised here. */
  async detail(infoHash: string): Promise<TorrentDetailView> {
    const raw = await request<Record<string, unknown>>('GET', `/api/torrents/${h(infoHash)}`);
    return normaliseDetail(raw);
  },
  /** The piece map: which pieces this node has and how many connected peers hold each. */
  pieces: (infoHash: string) => request<PieceMap>('GET', `/api/torrents/${h(infoHash)}/pieces`),
  addUri: (uri: string) => request<AddResult>('POST', '/api/torrents', { uri }),
  addTorrentFile(file: Blob, name = 'file.torrent') {
    const fd = new FormData();
    fd.append('torrent', file, name);
    return request<AddResult>('POST', '/api/torrents', fd);
  },
  pause: (infoHash: string) => request<unknown>('POST', `/api/torrents/${h(infoHash)}/pause`),
  resume: (infoHash: string) => request<unknown>('POST', `/api/torrents/${h(infoHash)}/resume`),
  recheck: (infoHash: string) => request<unknown>('POST', `/api/torrents/${h(infoHash)}/recheck`),
  remove: (infoHash: string, deleteData: boolean) =>
    request<unknown>('DELETE', `/api/torrents/${h(infoHash)}${deleteData ? '?deleteData=true' : ''}`),
  selectFiles: (infoHash: string, selected: number[]) =>
    request<unknown>('PUT', `/api/torrents/${h(infoHash)}/files`, { selected }),
  health: () => request<Health>('GET', '/api/health'),
  network: () => request<NetworkStatus>('GET', '/api/network'),
  probeNetwork: () => request<NetworkStatus>('POST', '/api/network/probe'),
  /** One request for many torrents (POST /api/torrents/bulk); per-torrent outcomes in `results`. */
  bulk: (body: BulkRequest) => request<BulkResponse>('POST', '/api/torrents/bulk', body),
  /** The node's library, then the DHT: by words, content id or infohash. */
  search: (q: string) => request<SearchRow[]>('GET', `/api/search?q=${encodeURIComponent(q)}`),
  categories: async () => (await request<{ categories: Category[] }>('GET', '/api/categories')).categories,
};

export const fileUrl = (infoHash: string, index: number, download = false) =>
  `/api/torrents/${h(infoHash)}/files/${index}${download ? '?download=true' : ''}`;
export const torrentFileUrl = (infoHash: string) => `/api/torrents/${h(infoHash)}/torrent`;

const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const optNum = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const optStr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function normaliseSummary(raw: Record<string, unknown>): TorrentSummary {
  return {
    infoHashHex: String(raw.infoHashHex ?? raw.infoHash ?? '').toLowerCase(),
    name: optStr(raw.name) ?? null,
    state: optStr(raw.state) ?? 'unknown',
    progress: num(raw.progress),
    length: optNum(raw.length) ?? null,
    downloaded: optNum(raw.downloaded),
    uploaded: optNum(raw.uploaded),
    downloadSpeed: num(raw.downloadSpeed),
    uploadSpeed: num(raw.uploadSpeed),
    eta: optNum(raw.eta) ?? null,
    peers: num(raw.peers),
    seeds: optNum(raw.seeds),
    error: optStr(raw.error) ?? null,
    ...(typeof raw.magnet === 'string' ? { magnet: raw.magnet } : {}),
    savePath: optStr(raw.savePath) ?? null,
    category: optStr(raw.category) || null,
    tags: Array.isArray(raw.tags) ? raw.tags.filter((x): x is string => typeof x === 'string') : [],
    tracker: optStr(raw.tracker) || null,
    queuePosition: optNum(raw.queuePosition) ?? null,
    ratio: optNum(raw.ratio) ?? null,
    addedAt: optNum(raw.addedAt) ?? null,
    encrypted: raw.encrypted === true,
    decryptable: raw.decryptable !== false,
    ...(raw.checkWaiting === true ? { checkWaiting: true } : {}),
  };
}

/** A torrent list as an array or as {torrents: [...]}. */
export function normaliseList(raw: unknown): TorrentSummary[] {
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && Array.isArray((raw as { torrents?: unknown }).torrents) ? (raw as { torrents: unknown[] }).torrents : [];
  return list.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object').map(normaliseSummary).filter((t) => t.infoHashHex !== '');
}

export function normaliseDetail(raw: Record<string, unknown>): TorrentDetailView {
  const stats = (raw.stats && typeof raw.stats === 'object' ? raw.stats : raw) as Record<string, unknown>;
  const peersList = Array.isArray(raw.peerList) ? (raw.peerList as PeerView[]) : Array.isArray(raw.peers) ? (raw.peers as PeerView[]) : [];
  const summary = normaliseSummary(stats);
  return {
    ...summary,
    infoHashHex: summary.infoHashHex || String(raw.infoHashHex ?? raw.infoHash ?? '').toLowerCase(),
    peers: typeof stats.peers === 'number' ? stats.peers : peersList.length,
    peersList,
    trackers: Array.isArray(raw.trackers) ? (raw.trackers as TrackerStatus[]) : [],
    files: Array.isArray(raw.files) ? (raw.files as FileInfo[]) : [],
    magnet: optStr(raw.magnet) ?? summary.magnet,
    infoHashV2: optStr(raw.infoHashV2),
    version: raw.version === 'v1' || raw.version === 'v2' || raw.version === 'hybrid' ? raw.version : undefined,
    pieceLength: optNum(raw.pieceLength),
    pieceCount: optNum(stats.pieceCount),
    raw,
  };
}

/** POSTs files as multipart field `file`, reporting upload progress (0..1). XHR, because fetch has
 *  no upload progress. */
export function uploadFiles(files: File[], onProgress: (fraction: number) => void, signal?: AbortSignal, addFields?: (fd: FormData) => void): Promise<AddResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const fd = new FormData();
    // Add options (save path, category, tags) go before the files: the node reads them first.
    addFields?.(fd);
    for (const f of files) {
      const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
      fd.append('file', f, rel || f.name);
    }
    xhr.open('POST', '/api/torrents');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onProgress(1);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as AddResult);
        } catch {
          reject(new ApiError(xhr.status, 'the node sent an unreadable answer'));
        }
        return;
      }
      let message = `${xhr.status} ${xhr.statusText}`;
      try {
        const body = JSON.parse(xhr.responseText) as { message?: string; error?: string };
        message = body.message ?? body.error ?? message;
      } catch {}
      reportAuthProblem(xhr.status, '/api/torrents');
      reject(new ApiError(xhr.status, describeFailure(xhr.status, message, '/api/torrents')));
    };
    xhr.onerror = () => reject(new ApiError(0, 'cannot reach the node'));
    xhr.onabort = () => reject(new ApiError(0, 'upload cancelled'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(fd);
  });
}
