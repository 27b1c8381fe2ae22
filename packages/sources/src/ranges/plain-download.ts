// A plain file (no torrent) from one URL and any mirrors of it at once: fixed-size chunks handed out
// to every source's workers, so a fast mirror takes more of them; a chunk that fails goes back for
// another source, and a source that keeps failing is dropped. The bytes land in `<name>.part`, which
// becomes `<name>` only once its SHA-256 matches what was asked for (--sha256 or a content id); a
// mismatch deletes it, so a bad file never looks complete.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { openRangeSource, type RangeSource } from './range-source.ts';

const CHUNK = 4 * 1024 * 1024;
const WORKERS_PER_SOURCE = 4;
const MAX_FAILURES = 3;

export interface PlainSourceStats {
  url: string;
  downloaded: number;
  /** Why it was dropped (failed too often, wrong length, unreachable); undefined while in use. */
  dropped?: string;
}

export interface PlainProgress {
  name: string;
  length: number | undefined;
  downloaded: number;
  sources: PlainSourceStats[];
}

export interface PlainResult {
  path: string;
  length: number;
  sha256: string;
  cid: string;
  sources: PlainSourceStats[];
}

export class Sha256Mismatch extends Error {}

export interface PlainDownloadOptions {
  /** The file's URL, then its mirrors (same bytes at each). */
  urls: string[];
  dir: string;
  /** Expected SHA-256 of the whole file; omitted = not checked (the result says what it was). */
  sha256?: Uint8Array;
  chunkSize?: number;
  open?: (url: string) => RangeSource;
  signal?: AbortSignal;
}

/** A file name from a URL's last path segment, safe to put in `dir`. */
export function nameFromUrl(url: string): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    // an undecodable name: fall through to the default
  }
  const name = basename(last.replace(/[\\/\0]/g, '_'));
  return name === '' || name === '.' || name === '..' ? 'download' : name;
}

export class PlainDownload {
  readonly name: string;
  private opts: PlainDownloadOptions;
  private stats: PlainSourceStats[];
  private length: number | undefined;

  constructor(opts: PlainDownloadOptions) {
    if (opts.urls.length === 0) throw new Error('no URL to download from');
    this.opts = opts;
    this.name = nameFromUrl(opts.urls[0]!);
    this.stats = [...new Set(opts.urls)].map((url) => ({ url, downloaded: 0 }));
  }

  progress(): PlainProgress {
    const downloaded = this.stats.reduce((n, s) => n + s.downloaded, 0);
    return { name: this.name, length: this.length, downloaded, sources: this.stats.map((s) => ({ ...s })) };
  }

  async run(): Promise<PlainResult> {
    const openSource = this.opts.open ?? ((url: string) => openRangeSource(url));
    const sources = new Map<PlainSourceStats, RangeSource>();
    for (const s of this.stats) {
      try {
        sources.set(s, openSource(s.url));
      } catch (err) {
        s.dropped = (err as Error).message;
      }
    }
    const length = await this.agreeOnLength(sources);
    this.length = length;
    const dest = join(this.opts.dir, this.name);
    const part = `${dest}.part`;
    const fh = await open(part, 'w');
    try {
      await fh.truncate(length);
      await this.fetchChunks(sources, length, (data, at) => fh.write(data, 0, data.length, at).then(() => {}));
    } catch (err) {
      await fh.close();
      await rm(part, { force: true });
      throw err;
    }
    await fh.close();
    const digest = await sha256Of(part);
    const want = this.opts.sha256;
    if (want && Buffer.compare(digest, want) !== 0) {
      await rm(part, { force: true });
      throw new Sha256Mismatch(
        `${this.name}: SHA-256 mismatch — expected ${Buffer.from(want).toString('hex')}, the sources gave ${digest.toString('hex')}; nothing was kept`,
      );
    }
    await rename(part, dest);
    // Imported here, once a file is done: multiformats is some 40 modules that a `cascade download`
    // of a torrent, which loads this package, never needs (issue 64 item 4).
    const { cidFromSha256 } = await import('@cascade/content/cid');
    return { path: dest, length, sha256: digest.toString('hex'), cid: cidFromSha256(digest), sources: this.progress().sources };
  }

  /** Every source's length; those that differ from the first answer (or fail) are dropped. */
  private async agreeOnLength(sources: Map<PlainSourceStats, RangeSource>): Promise<number> {
    const errors: unknown[] = [];
    const answers = await Promise.all(
      [...sources].map(async ([s, src]) => {
        try {
          return (await src.probe(this.opts.signal)).length;
        } catch (err) {
          errors.push(err);
          s.dropped = (err as Error).message;
          sources.delete(s);
          return undefined;
        }
      }),
    );
    const length = answers.find((a) => a !== undefined);
    // The errors themselves go along: a caller can say why (a refused connection) in its own words.
    if (length === undefined) throw new Error(`no source could be read: ${this.reasons()}`, { cause: errors.length === 1 ? errors[0] : new AggregateError(errors) });
    [...sources.keys()].forEach((s, i) => {
      if (answers[i] !== undefined && answers[i] !== length) {
        s.dropped = `its length ${answers[i]} differs from ${length}`;
        sources.delete(s);
      }
    });
    return length;
  }

  private reasons(): string {
    return this.stats.map((s) => `${s.url}: ${s.dropped ?? 'no answer'}`).join('; ');
  }

  private async fetchChunks(sources: Map<PlainSourceStats, RangeSource>, length: number, write: (data: Uint8Array, at: number) => Promise<void>): Promise<void> {
    const chunk = this.opts.chunkSize ?? CHUNK;
    const queue = Array.from({ length: Math.ceil(length / chunk) }, (_, i) => i);
    let inFlight = 0;
    let wake: () => void = () => {};
    let changed = new Promise<void>((r) => (wake = r));
    const signalChange = () => {
      wake();
      changed = new Promise<void>((r) => (wake = r));
    };
    const failures = new Map<PlainSourceStats, number>();
    const worker = async (s: PlainSourceStats, src: RangeSource): Promise<void> => {
      for (;;) {
        if (s.dropped || this.opts.signal?.aborted) return;
        const i = queue.shift();
        if (i === undefined) {
          if (inFlight === 0) return;
          await changed; // a chunk in flight elsewhere may come back to the queue
          continue;
        }
        inFlight++;
        const start = i * chunk;
        const end = Math.min(length, start + chunk);
        try {
          const data = await src.read(src.url, start, end, this.opts.signal ?? new AbortController().signal);
          await write(data, start);
          s.downloaded += data.length;
        } catch (err) {
          queue.unshift(i);
          const n = (failures.get(s) ?? 0) + 1;
          failures.set(s, n);
          if (n >= MAX_FAILURES && !s.dropped) s.dropped = (err as Error).message;
        } finally {
          inFlight--;
          signalChange();
        }
      }
    };
    await Promise.all([...sources].flatMap(([s, src]) => Array.from({ length: WORKERS_PER_SOURCE }, () => worker(s, src))));
    this.opts.signal?.throwIfAborted();
    if (queue.length > 0) throw new Error(`every source failed: ${this.reasons()}`);
  }
}

async function sha256Of(path: string): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}
