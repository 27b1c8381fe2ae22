// A plain file somewhere that can be read in byte ranges: its size, and bytes [start, end). HTTP(S)
// uses Range requests; FTP a REST offset on a fresh data connection (ftp.ts). The engine reads
// torrent mirrors through the same RangeRead, so one FTP reader serves both.

import { httpRangeRead, type RangeRead } from '@cascade/engine';
import { ftpRangeRead, ftpSize } from './ftp.ts';

export interface RangeSource {
  readonly url: string;
  /** Its length in bytes, and its media type where the protocol says one. */
  probe(signal?: AbortSignal): Promise<{ length: number; type?: string }>;
  read: RangeRead;
}

export function openRangeSource(url: string, fetchFn: typeof fetch = fetch): RangeSource {
  const scheme = new URL(url).protocol;
  if (scheme === 'ftp:') return { url, probe: async (signal) => ({ length: await ftpSize(url, signal) }), read: ftpRangeRead };
  if (scheme === 'http:' || scheme === 'https:') return { url, probe: (signal) => httpProbe(url, fetchFn, signal), read: httpRangeRead(fetchFn) };
  throw new Error(`${url}: only http(s):// and ftp:// URLs can be read`);
}

/** Length and type from HEAD; servers that refuse HEAD are asked for byte 0 instead. */
async function httpProbe(url: string, fetchFn: typeof fetch, signal?: AbortSignal): Promise<{ length: number; type?: string }> {
  const head = await fetchFn(url, { method: 'HEAD', signal, redirect: 'follow' });
  const type = head.headers.get('content-type') ?? undefined;
  const length = Number(head.headers.get('content-length'));
  if (head.ok && head.headers.has('content-length') && Number.isSafeInteger(length)) return { length, type };
  const res = await fetchFn(url, { headers: { range: 'bytes=0-0' }, signal, redirect: 'follow' });
  await res.body?.cancel();
  const total = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1];
  if (res.status === 206 && total !== undefined) return { length: Number(total), type: res.headers.get('content-type') ?? type };
  throw new Error(res.ok || head.ok ? 'the server says neither its length nor serves ranges' : `HTTP ${res.ok ? head.status : res.status}`);
}
