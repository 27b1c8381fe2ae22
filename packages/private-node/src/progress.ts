// How much of each file of a private share is there, from which chunks are.
import { fileSpan, type ShareManifest } from '@cascade/private-shares';

/** Fraction of each file's plaintext in chunks for which `has` is true. */
export function chunkProgress(manifest: ShareManifest, chunk: number, has: (c: number) => boolean): number[] {
  return manifest.files.map((f, i) => {
    if (f.length === 0) return 1;
    const span = fileSpan(manifest, i, chunk);
    let done = 0;
    for (let c = span.firstChunk; c <= span.lastChunk; c++) {
      if (!has(c)) continue;
      done += Math.min(span.offset + span.length, (c + 1) * chunk) - Math.max(span.offset, c * chunk);
    }
    return done / f.length;
  });
}
