// Moving a private share's plaintext (issue 44 item 6): the files under their real names, which the
// node keeps beside the ciphertext (the sharer's original, a recipient's decrypted copy) or instead
// of it (PlainStorage), go with the torrent when its data moves, as the engine moves its own files:
// renamed, or copied with their mtimes across file systems (PlainStorage's resume data compares the
// newest one), never over a file already there, and put back on any failure.
import { join } from 'node:path';
import { isSingleFile, plaintextPath, type ShareManifest } from '@cascade/private-shares';
import { moveFiles, removeEmptyDirs } from '@cascade/engine/move-files';

export async function movePlaintext(manifest: ShareManifest, from: string, to: string): Promise<void> {
  // A share of one file is that file; of more, a folder of its name (pruned when left empty).
  const folder = !isSingleFile(manifest);
  const pairs = manifest.files.map((_, i) => plaintextPath(manifest, i)).map((p) => [join(from, ...p), join(to, ...p)] as const);
  await moveFiles(pairs, to, () => removeEmptyDirs(join(to, manifest.name), to, folder));
  await removeEmptyDirs(join(from, manifest.name), from, folder);
}
