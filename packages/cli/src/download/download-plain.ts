// `cascade download <http(s)|ftp URL> [--mirror URL]... [--sha256 HEX]`: a plain file from its URL
// and every mirror at once (@cascade/sources' PlainDownload). No node starts: nothing here touches
// the swarm. --json prints progress about every 500 ms with the bytes each source gave.

import { asUnreachable } from '../core/unreachable.ts';
import { CliError } from '../core/errors.ts';
import { PlainDownload, Sha256Mismatch, type PlainProgress } from '@cascade/sources';
import { formatBytes, formatDuration, formatSpeed } from '../output/format.ts';
import { waitForStopSignal } from '../core/signals.ts';
import type { Output } from '../output/output.ts';

const JSON_PROGRESS_MS = 500;
const PLAIN_PROGRESS_MS = 5000;

function progressEvent(p: PlainProgress): Record<string, unknown> {
  return {
    progress: p.length ? p.downloaded / p.length : p.length === 0 ? 1 : 0,
    downloaded: p.downloaded,
    length: p.length ?? null,
    sources: p.sources.map((s) => ({ kind: 'mirror', address: s.url, downloaded: s.downloaded, ...(s.dropped ? { dropped: s.dropped } : {}) })),
  };
}

export async function downloadPlainFile(urls: string[], sha256: Uint8Array | undefined, dir: string, out: Output): Promise<number> {
  const stop = waitForStopSignal();
  const abort = new AbortController();
  void stop.promise.then(() => abort.abort());
  const dl = new PlainDownload({ urls, dir, sha256, signal: abort.signal });
  out.note(`downloading ${dl.name} from ${urls.length === 1 ? urls[0] : `${urls.length} sources`} to ${dir}`);
  const started = Date.now();
  let lastPlain = 0;
  const tick = () => {
    const p = dl.progress();
    if (out.json) out.event('progress', progressEvent(p));
    else if (Date.now() - lastPlain >= PLAIN_PROGRESS_MS) {
      lastPlain = Date.now();
      out.say(`${formatBytes(p.downloaded)}${p.length !== undefined ? ` of ${formatBytes(p.length)}` : ''}`);
    }
  };
  const ticker = setInterval(tick, out.json ? JSON_PROGRESS_MS : 1000);
  try {
    const r = await dl.run();
    clearInterval(ticker);
    if (out.json) out.event('progress', progressEvent(dl.progress()));
    const seconds = (Date.now() - started) / 1000;
    out.event('done', { path: r.path, length: r.length, sha256: r.sha256, cid: r.cid, seconds, sources: progressEvent(dl.progress()).sources });
    out.say(
      `done: ${r.path} — ${formatBytes(r.length)} in ${formatDuration(seconds)}` +
        (seconds > 0 ? ` (${formatSpeed(r.length / seconds)})` : '') +
        `\nsha256 ${r.sha256}${sha256 ? ' (as expected)' : ''}\ncontent id ${r.cid}`,
    );
    return 0;
  } catch (err) {
    if (abort.signal.aborted) {
      out.note('interrupted; nothing kept');
      return 130;
    }
    if (err instanceof Sha256Mismatch) throw new CliError(err.message);
    // One source that cannot be reached: said as such; several: each one's reason, as the sources say.
    const unreachable = urls.length === 1 ? asUnreachable(err, [{ what: 'the server', url: urls[0]!, advice: 'check the URL, or add a --mirror' }]) : undefined;
    throw unreachable ?? new CliError(`cannot download ${urls[0]}: ${(err as Error).message}`, 1, { cause: err });
  } finally {
    clearInterval(ticker);
    stop.dispose();
  }
}
