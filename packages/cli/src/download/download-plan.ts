// The protocol manager for `cascade download <id>`: the identifier's kind (@cascade/sources'
// classifier) picks the handler — the torrent path (magnet, .torrent file or URL, infohash), a
// plain-file download (an http(s)/ftp URL of anything else, or a content id with --mirror), or a
// content-id look-up. Bad input is a usage error before any node starts.
// @cascade/content/cid (multiformats and its codecs, some 40 modules) is imported only for an
// identifier that is or may be a CID: a torrent's download does not load it (issue 64 item 4).

import { stat } from 'node:fs/promises';
import { errorMessage } from '@cascade/node';
import { asUnreachable } from '../core/unreachable.ts';
import { UsageError } from '../core/errors.ts';
import { classifyIdentifier, openRangeSource, parseSha256, UnknownIdentifier, type Identifier } from '@cascade/sources';
import { describeSource, describeTorrentBytes, type DescribedSource, type ParseLib } from './source.ts';

export type DownloadPlan =
  | { kind: 'torrent'; described: DescribedSource; mirrors: string[] }
  | { kind: 'plain'; urls: string[]; sha256: Uint8Array | undefined }
  | { kind: 'content'; cid: string; gateways?: string[] };

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** A .torrent the URL names: by its path, or by the type the server gives it. */
async function isTorrentUrl(url: string): Promise<boolean> {
  if (/\.torrent$/i.test(new URL(url).pathname)) return true;
  try {
    const probe = await openRangeSource(url).probe(AbortSignal.timeout(20_000));
    return /application\/x-bittorrent/i.test(probe.type ?? '');
  } catch {
    return false; // the plain download says what is wrong with the URL, with its mirrors' answers
  }
}

async function fetchTorrent(url: string, lib: ParseLib): Promise<DescribedSource> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  } catch (err) {
    throw asUnreachable(err, [{ what: 'the server', url, advice: 'check the URL, or download the .torrent and give its path' }]) ?? new UsageError(`cannot fetch ${url}: ${errorMessage(err)}`);
  }
  if (!res.ok) throw new UsageError(`cannot fetch ${url}: HTTP ${res.status}`);
  return describeTorrentBytes(new Uint8Array(await res.arrayBuffer()), url, lib);
}

export async function planDownload(
  arg: string,
  o: { mirrors: string[]; sha256: string | undefined; ipfsGateways?: string[] },
  loadLib: () => Promise<ParseLib>,
): Promise<DownloadPlan> {
  let id: Identifier;
  try {
    id = classifyIdentifier(arg, await isFile(arg));
  } catch (err) {
    if (!(err instanceof UnknownIdentifier)) throw err;
    // A UnixFS CID (a file of more than one chunk, as IPFS names it): from IPFS gateways only.
    if ((await import('@cascade/content/cid')).isUnixfsCid(arg)) {
      if (!o.ipfsGateways?.length) throw new UsageError(`${arg} is a UnixFS CID: give --ipfs-gateway URL to fetch it (the swarm finds files by their SHA-256 content id)`);
      if (o.sha256 !== undefined || o.mirrors.length > 0) throw new UsageError('--sha256 and --mirror go with a SHA-256 content id, not a UnixFS CID');
      return { kind: 'content', cid: arg.trim(), gateways: o.ipfsGateways };
    }
    if (/\.torrent$/i.test(arg)) throw new UsageError(`no such torrent file: ${arg}`);
    throw new UsageError(err.message);
  }
  const wanted = o.sha256 !== undefined ? parseSha256(o.sha256) : undefined;
  const torrent = async (described: Promise<DescribedSource>): Promise<DownloadPlan> => {
    if (wanted) throw new UsageError('--sha256 checks a plain file (an http(s):// or ftp:// URL); a torrent is checked piece by piece');
    return { kind: 'torrent', described: await described, mirrors: o.mirrors };
  };
  switch (id.kind) {
    case 'torrent-file':
    case 'magnet':
    case 'infohash-v1':
      return torrent(describeSource(arg, loadLib));
    case 'infohash-v2':
      return torrent(
        describeSource(`magnet:?xt=urn:btmh:1220${id.infoHash}`, loadLib).catch((err: unknown) => {
          throw new UsageError(`cannot download v2 infohash ${id.infoHash}: ${errorMessage(err)}`);
        }),
      );
    case 'url':
      if (id.scheme !== 'ftp' && (await isTorrentUrl(id.url))) return torrent(loadLib().then((lib) => fetchTorrent(id.url, lib)));
      return { kind: 'plain', urls: [id.url, ...o.mirrors], sha256: wanted };
    case 'content-id': {
      const named = (await import('@cascade/content/cid')).sha256FromCid(id.cid);
      if (wanted && Buffer.compare(wanted, named) !== 0) throw new UsageError(`--sha256 ${o.sha256} is not the SHA-256 content id ${id.cid} names`);
      // Mirrors of a content id: the file from them, checked against the id itself.
      if (o.mirrors.length > 0) return { kind: 'plain', urls: o.mirrors, sha256: named };
      return { kind: 'content', cid: id.cid, ...(o.ipfsGateways?.length ? { gateways: o.ipfsGateways } : {}) };
    }
  }
}
