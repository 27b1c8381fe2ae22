// FTP as a range source, through basic-ftp: SIZE for the length, REST <offset> + RETR for a range.
// FTP has no end offset, so a read stops the transfer itself once it holds its bytes (closing the
// connection is the only abort a server honours mid-RETR). One control connection per read: reads
// are large (a piece, a chunk of megabytes), and a failed one leaves no half-state to reuse.

import { Writable } from 'node:stream';
import type { Client } from 'basic-ftp';
import type { RangeRead } from '@cascade/engine';

const TIMEOUT_MS = 30_000;

function target(url: string) {
  const u = new URL(url);
  if (u.protocol !== 'ftp:') throw new Error(`${url} is not an ftp:// URL`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 21),
    user: decodeURIComponent(u.username) || 'anonymous',
    password: decodeURIComponent(u.password) || 'anonymous@',
    // RFC 1738: the URL's path is relative to the login directory (`%2F` spells an absolute one).
    path: decodeURIComponent(u.pathname.replace(/^\//, '')),
  };
}

async function withClient<T>(url: string, signal: AbortSignal | undefined, use: (client: Client, path: string) => Promise<T>): Promise<T> {
  const t = target(url);
  // Loaded on the first FTP source: a node that never reads one holds none of it.
  const { Client } = await import('basic-ftp');
  const client = new Client(TIMEOUT_MS);
  const abort = () => client.close();
  signal?.throwIfAborted();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await client.access({ host: t.host, port: t.port, user: t.user, password: t.password, secure: false });
    // Binary mode before SIZE: servers (vsftpd among them) refuse SIZE in ASCII mode.
    await client.send('TYPE I');
    return await use(client, t.path);
  } catch (err) {
    signal?.throwIfAborted();
    throw new Error(`FTP ${url}: ${(err as Error).message}`);
  } finally {
    signal?.removeEventListener('abort', abort);
    client.close();
  }
}

export function ftpSize(url: string, signal?: AbortSignal): Promise<number> {
  return withClient(url, signal, (client, path) => client.size(path));
}

export const ftpRangeRead: RangeRead = (url, start, end, signal) =>
  withClient(url, signal, async (client, path) => {
    const out = new Uint8Array(end - start);
    let got = 0;
    let full!: () => void;
    const enough = new Promise<void>((r) => (full = r));
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        const take = Math.min(chunk.length, out.length - got);
        out.set(chunk.subarray(0, take), got);
        got += take;
        if (got === out.length) full();
        cb();
      },
    });
    if (out.length === 0) return out;
    const transfer = client.downloadTo(sink, path, start);
    // The close that ends a transfer we cut short rejects it: that is expected, not an error.
    transfer.catch(() => {});
    await Promise.race([transfer, enough]);
    if (got !== out.length) throw new Error(`short read: ${got} of ${out.length} bytes at ${start}`);
    return out;
  });
