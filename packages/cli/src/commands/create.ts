// `cascade create`: hash a file or directory into a .torrent (v1, or with --v2 / --hybrid BEP 52)
// and print its magnet link and each file's content id. Human mode prints only the magnet on
// stdout, so `magnet=$(cascade create dir)` works (content ids go to stderr); --json prints one object.

import { stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { cidFromSha256 } from '@cascade/content';
import { loadEngine } from '../core/engine.ts';
import { errorMessage } from '@cascade/node';
import { UsageError, CliError } from '../core/errors.ts';
import { formatBytes, formatPercent } from '../output/format.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import { ownWebSeed } from './web-seed.ts';

export async function createCommand(inv: Invocation, out: Output): Promise<number> {
  const o = inv.options;
  for (const p of inv.positionals) {
    try {
      await stat(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
  }
  if (o.v2 && o.hybrid) throw new UsageError('--v2 and --hybrid exclude each other: --hybrid already includes v2');
  const version = o.v2 ? 'v2' : o.hybrid ? 'hybrid' : 'v1';
  if (o.to.length > 0 || o.encrypt) {
    if (version !== 'v1') throw new UsageError('private shares (--to, --encrypt) are v1 torrents: drop --v2 / --hybrid');
    return (await import('./create-private.ts')).createPrivate(inv, out);
  }
  if (inv.positionals.length > 1) {
    throw new UsageError('several paths make one torrent only as a private share (--to or --encrypt); otherwise put them in a folder');
  }
  const path = inv.positionals[0]!;
  const lib = await loadEngine();
  const showProgress = !out.json && process.stderr.isTTY === true;
  const opts: NonNullable<Parameters<typeof lib.createTorrent>[1]> = {
    version,
    announce: o.announce,
    private: o.private,
    webSeeds: o.webseeds,
    // The callback's exact shape is the engine's; (done, total) and a 0..1 fraction are handled.
    onProgress: (...args: unknown[]) => {
      if (!showProgress) return;
      const [a, b] = args;
      const f = typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : typeof a === 'number' && a <= 1 ? a : undefined;
      if (f !== undefined) process.stderr.write(`\rhashing ${formatPercent(f)}\x1b[K`);
    },
  };
  if (o.pieceLength !== undefined) opts.pieceLength = o.pieceLength;

  let created;
  try {
    created = await lib.createTorrent(path, opts);
  } catch (err) {
    throw new CliError(`cannot create a torrent from ${path}: ${errorMessage(err)}`);
  } finally {
    if (showProgress) process.stderr.write('\r\x1b[K');
  }
  const { metainfo, files } = created;
  let torrent = created.torrent;
  // BEP 19: url-list lies outside the info dict, so adding it after hashing keeps the infohash.
  const webSeed = o.webSeedFromPublicUrl || o.cdnUrl !== undefined ? await ownWebSeed(o, metainfo) : undefined;
  if (webSeed) {
    metainfo.urlList = [...metainfo.urlList, webSeed];
    torrent = lib.encodeTorrent(metainfo);
  }
  const file = resolve(o.output ?? `${metainfo.name}.torrent`);
  try {
    await writeFile(file, torrent);
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${errorMessage(err)}`);
  }
  const v1 = metainfo.version !== 'v2';
  const magnet = lib.toMagnet({
    infoHashHex: metainfo.infoHashHex,
    infoHashV2Hex: metainfo.infoHashV2Hex,
    name: metainfo.name,
    trackers: metainfo.announce.flat(),
  });
  const listed = files.map((f) => ({ path: f.path.join('/'), length: f.length, cid: cidFromSha256(f.sha256) }));
  if (out.json) {
    out.line({ magnet, infoHash: v1 ? metainfo.infoHashHex : null, infoHashV2: metainfo.infoHashV2Hex ?? null, files: listed, ...(webSeed ? { webSeed } : {}) });
    return 0;
  }
  out.say(magnet);
  for (const f of listed) out.note(`${f.cid}  ${f.path}`);
  out.note(
    `wrote ${file}: ${metainfo.name}, ${formatBytes(metainfo.length)} in ${metainfo.files.filter((f) => !f.pad).length} ` +
      `file(s), ${metainfo.pieceCount} pieces of ${formatBytes(metainfo.pieceLength)}` +
      (v1 ? `, infohash ${metainfo.infoHashHex}` : '') +
      (metainfo.infoHashV2Hex ? `, v2 infohash ${metainfo.infoHashV2Hex}` : ''),
  );
  return 0;
}

