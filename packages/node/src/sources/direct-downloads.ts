// Plain files the node downloads for `POST /api/torrents {"uri": <http(s)|ftp URL>}` (not a
// .torrent): @cascade/sources' PlainDownload from the URL and its mirrors at once, SHA-256 checked
// when asked, then shared as a torrent from where it landed, so the file joins the library like an
// upload. Every URL goes through the SSRF guard: HTTP hops are checked and pinned one by one, an
// FTP host is resolved and checked and then dialled by that address.

import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PlainDownload, type PlainSourceStats } from '@cascade/sources';
import { guardedFetch, guardedSource, type PrivateAllowance } from '@cascade/sources/guarded';
import { parseTorrent } from '@cascade/engine';
import { fetchTorrentFile, MAX_TORRENT_FILE } from './fetch-torrent.ts';
import { errorMessage } from '@cascade/node-state/errors';
import type { PlainDownloadView } from '@cascade/shapes';

/** A plain download as GET /api/downloads/:id sends it (@cascade/shapes). */
export type PlainJobView = PlainDownloadView;

interface Job {
  view: PlainJobView;
  dl: PlainDownload;
  abort: AbortController;
}

export class PlainDownloads {
  private jobs = new Map<string, Job>();
  private allowPrivate: PrivateAllowance;
  private share: (path: string) => Promise<string>;

  /** `share` makes a torrent of a finished file and seeds it, answering its infohash. */
  constructor(opts: { allowPrivate: PrivateAllowance; share: (path: string) => Promise<string> }) {
    this.allowPrivate = opts.allowPrivate;
    this.share = opts.share;
  }

  start(req: { url: string; mirrors: string[]; sha256?: Uint8Array; savePath: string }): PlainJobView {
    const abort = new AbortController();
    const urls = [req.url, ...req.mirrors];
    const dl = new PlainDownload({ urls, dir: req.savePath, sha256: req.sha256, signal: abort.signal, open: (u) => guardedSource(u, this.allowPrivate) });
    const view: PlainJobView = {
      id: randomUUID(), url: req.url, mirrors: req.mirrors, name: dl.name, savePath: req.savePath, state: 'downloading',
      length: null, downloaded: 0, sources: [], sha256: null, cid: null, infoHash: null, error: null,
    };
    const job = { view, dl, abort };
    this.jobs.set(view.id, job);
    void dl.run().then(
      async (r) => {
        Object.assign(view, { sha256: r.sha256, cid: r.cid });
        try {
          view.infoHash = await this.share(r.path);
          view.state = 'done';
        } catch (err) {
          Object.assign(view, { state: 'error', error: `downloaded to ${dirname(r.path)}, but not shared: ${errorMessage(err)}` });
        }
      },
      (err: unknown) => Object.assign(view, { state: 'error', error: errorMessage(err) }),
    );
    return this.view(job);
  }

  get(id: string): PlainJobView | undefined {
    const job = this.jobs.get(id);
    return job && this.view(job);
  }

  list(): PlainJobView[] {
    return [...this.jobs.values()].map((j) => this.view(j));
  }

  close(): void {
    for (const j of this.jobs.values()) j.abort.abort();
  }

  private view(job: Job): PlainJobView {
    const p = job.dl.progress();
    return { ...job.view, length: p.length ?? null, downloaded: p.downloaded, sources: p.sources };
  }
}

/** What an http(s)/ftp `uri` given to the node names: a plain file, or a .torrent (its bytes when
 *  they were fetched to find out). A URL that cannot be probed goes the .torrent way, whose fetch
 *  then says what is wrong with it. */
export async function plainOrTorrent(uri: string, allowPrivate: PrivateAllowance, wantsSha256: boolean): Promise<'plain' | 'torrent' | Uint8Array> {
  const url = new URL(uri);
  if (url.protocol === 'ftp:' || wantsSha256) return 'plain';
  if (/\.torrent$/i.test(url.pathname)) return 'torrent';
  // A GET whose body is dropped once the headers are in (some servers answer HEAD wrongly or not at all).
  let head: Response;
  try {
    head = await guardedFetch(allowPrivate)(uri, { signal: AbortSignal.timeout(10_000) });
    await head.body?.cancel().catch(() => {});
  } catch {
    return 'torrent';
  }
  if (!head.ok) return 'torrent';
  if (/application\/x-bittorrent/i.test(head.headers.get('content-type') ?? '')) return 'torrent';
  // No length: a plain download could not split it anyway; the capped .torrent fetch decides.
  if (!head.headers.has('content-length')) return 'torrent';
  if (Number(head.headers.get('content-length')) > MAX_TORRENT_FILE) return 'plain';
  // Small and untyped: a .torrent only if it parses as one.
  try {
    const bytes = await fetchTorrentFile(uri, { allowPrivate });
    parseTorrent(bytes);
    return bytes;
  } catch {
    return 'plain';
  }
}
