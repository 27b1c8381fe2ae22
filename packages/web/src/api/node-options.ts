// REST client for what issue 20 adds to the node: its settings (GET/PATCH /api/settings), a
// torrent's own options (PATCH /api/torrents/:infoHash), its place in the queue, categories and
// tags, and the add options. Shapes follow the server's contracts (packages/http README).
import { request, type AddResult, type Category, type PlainDownload } from './api.ts';
import type { AltSpeedSchedule, QueueMove, Settings as NodeSettings } from '@cascade/shapes';

// The node's settings and queue moves, as @cascade/shapes has them.
export type { AltSpeedSchedule, NodeSettings, QueueMove };

/** A torrent's own options. ratioLimit / seedingTimeLimit: null = the node's setting applies,
 *  -1 = no limit for this torrent. */
export interface TorrentOptions {
  downloadLimit: number;
  uploadLimit: number;
  category: string | null;
  tags: string[];
  savePath: string | null;
  ratioLimit: number | null;
  seedingTimeLimit: number | null;
  forceStart: boolean;
  /** BEP 16 super-seeding, while complete. */
  superSeeding: boolean;
  queuePosition: number | null;
  ratio: number | null;
  seedingTime: number | null;
  completedAt: number | null;
}

export type TorrentPatch = Partial<Omit<TorrentOptions, 'queuePosition' | 'ratio' | 'seedingTime' | 'completedAt' | 'savePath'>> & { savePath?: string; privateDiscovery?: boolean; sequential?: boolean; firstLastPiece?: boolean };

export interface AddOptions {
  savePath?: string;
  category?: string;
  tags?: string[];
  paused?: boolean;
  /** Announces and DHT look-ups through onion circuits only (the node needs a directory). */
  privateDiscovery?: boolean;
  /** http(s)/ftp mirrors of the content, fetched beside the swarm (issue 15). */
  mirrors?: string[];
  /** The SHA-256 (64 hex) a plain file's bytes must have. */
  sha256?: string;
  /** host:port of peers to ask at once (a search result's providers). */
  peers?: string[];
}

const h = (infoHash: string) => encodeURIComponent(infoHash);

/** Fires 'change' (detail: the settings) after this page changed them, and when the live feed says
 *  they changed elsewhere: the top bar's turtle and the Settings form stay in step. */
export const settingsChanged = new EventTarget();
const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const numOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The options out of a torrent entry (list, detail or socket feed); absent fields get defaults. */
export function optionsOf(raw: Record<string, unknown>): TorrentOptions {
  return {
    downloadLimit: num(raw.downloadLimit, 0),
    uploadLimit: num(raw.uploadLimit, 0),
    category: typeof raw.category === 'string' && raw.category !== '' ? raw.category : null,
    tags: Array.isArray(raw.tags) ? raw.tags.filter((t): t is string => typeof t === 'string') : [],
    savePath: typeof raw.savePath === 'string' ? raw.savePath : null,
    ratioLimit: numOrNull(raw.ratioLimit),
    seedingTimeLimit: numOrNull(raw.seedingTimeLimit),
    forceStart: raw.forceStart === true,
    superSeeding: raw.superSeeding === true,
    queuePosition: numOrNull(raw.queuePosition),
    ratio: numOrNull(raw.ratio),
    seedingTime: numOrNull(raw.seedingTime),
    completedAt: numOrNull(raw.completedAt),
  };
}

/** Add options as multipart fields (the node reads tags repeated or comma-separated). */
export function appendAddOptions(fd: FormData, o: AddOptions): void {
  if (o.savePath) fd.append('savePath', o.savePath);
  if (o.category) fd.append('category', o.category);
  for (const t of o.tags ?? []) fd.append('tags', t);
  if (o.paused !== undefined) fd.append('paused', String(o.paused));
  if (o.privateDiscovery) fd.append('privateDiscovery', 'true');
}

export const nodeOptions = {
  settings: () => request<NodeSettings>('GET', '/api/settings'),
  async saveSettings(patch: Partial<NodeSettings>): Promise<NodeSettings> {
    const s = await request<NodeSettings>('PATCH', '/api/settings', patch);
    settingsChanged.dispatchEvent(new CustomEvent('change', { detail: s }));
    return s;
  },
  /** Answers the torrent's detail document. */
  patchTorrent: (infoHash: string, patch: TorrentPatch) => request<Record<string, unknown>>('PATCH', `/api/torrents/${h(infoHash)}`, patch),
  queue: (infoHash: string, move: QueueMove) => request<{ queuePosition: number | null }>('POST', `/api/torrents/${h(infoHash)}/queue`, { move }),
  categories: async () => (await request<{ categories: Category[] }>('GET', '/api/categories')).categories,
  addCategory: (name: string, savePath?: string) => request<Category>('POST', '/api/categories', savePath ? { name, savePath } : { name }),
  tags: async () => (await request<{ tags: string[] }>('GET', '/api/tags')).tags,
  /** A torrent's add answer, or (for the URL of a plain file) the download the node started. */
  addUri: (uri: string, o: AddOptions) => request<AddResult | { download: PlainDownload }>('POST', '/api/torrents', { uri, ...cleanAdd(o) }),
  plainDownload: (id: string) => request<PlainDownload>('GET', `/api/downloads/${encodeURIComponent(id)}`),
  addTorrentFile(file: Blob, name: string, o: AddOptions) {
    const fd = new FormData();
    appendAddOptions(fd, o);
    fd.append('torrent', file, name);
    return request<AddResult>('POST', '/api/torrents', fd);
  },
};

function cleanAdd(o: AddOptions): AddOptions {
  return {
    ...(o.savePath ? { savePath: o.savePath } : {}),
    ...(o.category ? { category: o.category } : {}),
    ...(o.tags && o.tags.length > 0 ? { tags: o.tags } : {}),
    ...(o.paused !== undefined ? { paused: o.paused } : {}),
    ...(o.privateDiscovery ? { privateDiscovery: true } : {}),
    ...(o.mirrors && o.mirrors.length > 0 ? { mirrors: o.mirrors } : {}),
    ...(o.sha256 ? { sha256: o.sha256 } : {}),
    ...(o.peers && o.peers.length > 0 ? { peers: o.peers } : {}),
  };
}

/** "a, b,,c" → ["a", "b", "c"] (duplicates dropped, order kept). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];
}
