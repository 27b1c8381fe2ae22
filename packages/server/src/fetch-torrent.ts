// Fetches a .torrent named by an http(s) URL in `POST /api/torrents {"uri": …}`. The size cap and
// timeout keep a wrong link (a video, an endless stream) from filling memory or hanging the request;
// every failure is the client's link being bad, so it surfaces as a 4xx.

import { HttpError, badRequest } from './http-errors.ts';
import { MAX_TORRENT_FILE } from './upload.ts';
import { errorMessage } from './errors.ts';

export async function fetchTorrentFile(url: string, opts: { maxBytes?: number; timeoutMs?: number } = {}): Promise<Uint8Array> {
  const maxBytes = opts.maxBytes ?? MAX_TORRENT_FILE;
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 20_000);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow', headers: { accept: 'application/x-bittorrent, */*' } });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    throw new HttpError(422, `cannot fetch ${url}: ${errorMessage(cause ?? err)}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new HttpError(422, `cannot fetch ${url}: HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new HttpError(413, `${url} is ${declared} bytes; a .torrent may be at most ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  try {
    for (let r = await reader?.read(); r && !r.done; r = await reader!.read()) {
      size += r.value.length;
      if (size > maxBytes) throw new HttpError(413, `${url} is larger than ${maxBytes} bytes: not a .torrent`);
      chunks.push(r.value);
    }
  } catch (err) {
    await reader?.cancel().catch(() => {});
    if (err instanceof HttpError) throw err;
    throw new HttpError(422, `cannot fetch ${url}: ${errorMessage(err)}`);
  }
  if (size === 0) throw badRequest(`${url} returned an empty body`);
  return new Uint8Array(Buffer.concat(chunks));
}
