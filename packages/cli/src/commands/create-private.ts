// `cascade create PATH… --to DID… | --encrypt`: a private share (issue 24). The content is sealed
// into one ciphertext file beside the .torrent (named neutrally), and the torrent is made of that
// file with the share's entry in its info dictionary. Seed it with `cascade seed` or add the
// .torrent to a node with the ciphertext in its save path.
import { rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { INFO_KEY, linkFor, recipientKeyFromDid, sharePieceLength } from '@cascade/private-shares';
import { sealFiles } from '@cascade/private-shares/node';
import { errorMessage } from '@cascade/node';
import { UsageError, CliError } from '../core/errors.ts';
import { loadEngine } from '../core/engine.ts';
import { formatBytes } from '../output/format.ts';
import type { Invocation } from '../parse/args.ts';
import type { Output } from '../output/output.ts';
import { ownWebSeed } from './web-seed.ts';

export async function createPrivate(inv: Invocation, out: Output): Promise<number> {
  const o = inv.options;
  if (o.to.length > 0 && o.encrypt) throw new UsageError('--to makes a share for its recipients, --encrypt one for anyone with the link: give one of them');
  const recipients = o.to.map((did) => {
    try {
      return recipientKeyFromDid(did.trim());
    } catch (err) {
      throw new UsageError(`--to ${did}: not an Ed25519 did:key (${errorMessage(err)})`);
    }
  });
  const output = o.output === undefined ? undefined : resolve(o.output);
  const dir = output ? dirname(output) : process.cwd();
  let sealed;
  try {
    // A piece length given by hand holds whole chunks (or recipients would keep the ciphertext).
    sealed = await sealFiles(inv.positionals, dir, recipients, { maxChunk: o.pieceLength });
  } catch (err) {
    throw new CliError(`cannot make a private share of ${inv.positionals.join(', ')}: ${errorMessage(err)}`);
  }
  const lib = await loadEngine();
  let created;
  try {
    created = await lib.createTorrent(sealed.cipherPath, {
      announce: o.announce,
      private: o.private,
      webSeeds: o.webseeds,
      // Pieces of whole chunks unless told otherwise: a recipient decrypts each piece as it arrives.
      pieceLength: o.pieceLength ?? sharePieceLength(sealed.cipherLength, sealed.info.chunk, lib.defaultPieceLength(sealed.cipherLength)),
      extraInfo: { [INFO_KEY]: sealed.info as never },
    });
  } catch (err) {
    await rm(sealed.cipherPath, { force: true });
    throw new CliError(`cannot create a torrent of the sealed share: ${errorMessage(err)}`);
  }
  const { metainfo } = created;
  let torrent = created.torrent;
  // The ciphertext is what the node's /webseed serves of a share (and a CDN caches): no key there.
  const webSeed = o.webSeedFromPublicUrl || o.cdnUrl !== undefined ? await ownWebSeed(o, metainfo) : undefined;
  if (webSeed) {
    metainfo.urlList = [...metainfo.urlList, webSeed];
    torrent = lib.encodeTorrent(metainfo);
  }
  const file = output ?? resolve(dir, `${metainfo.name}.torrent`);
  try {
    await writeFile(file, torrent);
  } catch (err) {
    await rm(sealed.cipherPath, { force: true });
    throw new CliError(`cannot write ${file}: ${errorMessage(err)}`);
  }
  const magnet = lib.toMagnet({ infoHashHex: metainfo.infoHashHex, name: metainfo.name, trackers: metainfo.announce.flat() });
  const link = o.encrypt ? linkFor(magnet, sealed.key) : undefined;
  out.event('created', {
    infoHash: metainfo.infoHashHex,
    magnet,
    torrent: file,
    name: metainfo.name,
    encrypted: true,
    ...(link ? { link } : {}),
    recipients: recipients.length,
    data: sealed.cipherPath,
    ...(webSeed ? { webSeed } : {}),
  });
  // What to hand on: the link (it holds the key) for a share by link, else the magnet.
  out.say(link ?? magnet);
  out.note(
    `wrote ${file} and the ciphertext ${sealed.cipherPath}: "${sealed.manifest.name}", ${formatBytes(sealed.manifest.length)} in ` +
      `${sealed.manifest.files.length} file(s), sealed ${link ? 'for anyone with the link' : `for ${recipients.length} recipient(s)`}; ` +
      `seed it with: cascade seed ${file} --dir ${dir}`,
  );
  if (link) out.note('anyone with the link can read the share, for good: a key once given cannot be taken back');
  else out.note('only the recipients can read it; adding recipients later makes a new share (a new torrent)');
  return 0;
}
