// `cascade create`: hash a file or directory into a .torrent and print its magnet link.
// Human mode prints only the magnet on stdout, so `magnet=$(cascade create dir)` works.

import { stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadEngine } from '../engine.ts';
import { UsageError, CliError, errorMessage } from '@cascade/server/core';
import { formatBytes, formatPercent } from '../format.ts';
import type { Invocation } from '../args.ts';
import type { Output } from '../output.ts';

export async function createCommand(inv: Invocation, out: Output): Promise<number> {
  const o = inv.options;
  for (const p of inv.positionals) {
    try {
      await stat(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
  }
  if (o.to.length > 0 || o.encrypt) return (await import('./create-private.ts')).createPrivate(inv, out);
  if (inv.positionals.length > 1) {
    throw new UsageError('several paths make one torrent only as a private share (--to or --encrypt); otherwise put them in a folder');
  }
  const path = inv.positionals[0]!;
  const lib = await loadEngine();
  const showProgress = !out.json && process.stderr.isTTY === true;
  const opts: NonNullable<Parameters<typeof lib.createTorrent>[1]> = {
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
  const { torrent, metainfo } = created;
  const file = resolve(o.output ?? `${metainfo.name}.torrent`);
  try {
    await writeFile(file, torrent);
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${errorMessage(err)}`);
  }
  const magnet = lib.toMagnet({ infoHashHex: metainfo.infoHashHex, name: metainfo.name, trackers: metainfo.announce.flat() });
  out.event('created', { infoHash: metainfo.infoHashHex, magnet, torrent: file, name: metainfo.name });
  out.say(magnet);
  out.note(
    `wrote ${file}: ${metainfo.name}, ${formatBytes(metainfo.length)} in ${metainfo.files.filter((f) => !f.pad).length} ` +
      `file(s), ${metainfo.pieceCount} pieces of ${formatBytes(metainfo.pieceLength)}, infohash ${metainfo.infoHashHex}`,
  );
  return 0;
}
