// Sealing files on disk into a share (Node only): the plaintext stream is read file by file in
// manifest order and its ciphertext written as the share's one file, named neutrally, in `outDir`.
// The torrent is then made of that file with the returned info entry in its info dictionary.
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { once } from 'node:events';
import { ChunkCipher, encryptStream } from '../format/chunks.ts';
import { neutralName, shareChunkSize, type PrivateInfo } from '../format/format.ts';
import { newContentKey } from '../keys/keys.ts';
import { checkManifest, type ShareManifest } from '../format/manifest.ts';
import { sealInfo } from '../keys/seal.ts';

export interface SealedFiles {
  /** The content key: whoever holds it reads the share. */
  key: Uint8Array;
  info: PrivateInfo;
  manifest: ShareManifest;
  /** The ciphertext, `<outDir>/<neutral name>`: what the torrent is made of. */
  cipherPath: string;
  cipherLength: number;
}

interface PlainFile {
  abs: string;
  path: string[];
  length: number;
}

/**
 * Seals a file or a folder (its regular files, by path as bytes, like `cascade create`) for
 * `recipients` (X25519 public keys; none for a share by link). Nothing is left in `outDir` on failure.
 */
export async function sealFiles(
  paths: string | string[],
  outDir: string,
  recipients: Uint8Array[],
  opts: { chunk?: number; maxChunk?: number; name?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<SealedFiles> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (list.length === 0) throw new Error('nothing to share');
  let name: string;
  let files: PlainFile[];
  if (list.length === 1) {
    name = basename(resolve(list[0]!));
    files = await entriesOf(list[0]!, []);
  } else {
    // Several paths: one folder holding each of them by its own name.
    name = opts.name ?? `${basename(resolve(list[0]!))} and ${list.length - 1} more`;
    files = [];
    for (const p of list) files.push(...(await entriesOf(p, [basename(resolve(p))])));
  }
  files = sortByPath(files);
  const manifest = checkManifest({ name, files: files.map((f) => ({ path: f.path, length: f.length })), length: files.reduce((n, f) => n + f.length, 0) });
  const key = newContentKey();
  // `chunk` as given, else by the share's size (shareChunkSize), under `maxChunk` (a piece length given).
  const info = await sealInfo(key, manifest, recipients, opts.chunk ?? shareChunkSize(manifest.length, opts.maxChunk));
  const cipher = await ChunkCipher.create(key, info, manifest.length);
  const cipherPath = join(outDir, neutralName(info.salt));
  const out = createWriteStream(cipherPath, { flags: 'wx' });
  try {
    await once(out, 'open');
    let written = 0;
    for await (const c of encryptStream(cipher, readAll(files))) {
      if (!out.write(c)) await once(out, 'drain');
      written += c.length;
      opts.onProgress?.(written, cipher.cipherLength);
    }
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    await rm(cipherPath, { force: true });
    throw err;
  }
  return { key, info, manifest, cipherPath, cipherLength: cipher.cipherLength };
}

async function* readAll(files: PlainFile[]): AsyncIterable<Uint8Array> {
  for (const f of files) {
    let got = 0;
    for await (const part of createReadStream(f.abs, { highWaterMark: 1 << 20 })) {
      got += (part as Buffer).length;
      yield part as Buffer;
    }
    // A file that changed while it was read would make a share whose manifest lies.
    if (got !== f.length) throw new Error(`${f.abs} changed while it was being sealed (${f.length} bytes, then ${got})`);
  }
}

/** A file as [its name] (single) or a folder's regular files under `prefix`. */
async function entriesOf(path: string, prefix: string[]): Promise<PlainFile[]> {
  const root = resolve(path);
  const st = await stat(root);
  if (st.isDirectory()) {
    const files = await walk(root, prefix);
    if (files.length === 0) throw new Error(`cannot share an empty folder: ${path}`);
    return files;
  }
  if (st.isFile()) return [{ abs: root, path: prefix.length > 0 ? prefix : [basename(root)], length: st.size }];
  throw new Error(`not a regular file or folder: ${path}`);
}

// Regular files only: symlinks could point outside the folder or loop.
async function walk(dir: string, prefix: string[]): Promise<PlainFile[]> {
  const out: PlainFile[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    const path = [...prefix, entry.name];
    if (entry.isDirectory()) out.push(...(await walk(abs, path)));
    else if (entry.isFile()) out.push({ abs, path, length: (await stat(abs)).size });
  }
  return out;
}

function sortByPath(files: PlainFile[]): PlainFile[] {
  const keyOf = (f: PlainFile) => Buffer.from(f.path.join('/'));
  return files.sort((a, b) => Buffer.compare(keyOf(a), keyOf(b)));
}
