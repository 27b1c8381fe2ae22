// Where a share's files go under a save path: in a module of its own, so the lean entry
// (plain-writing.ts) has it without the manifest's parsing and crypto.
/** What of a manifest (manifest.ts ShareManifest) says where its files go. */
interface Named {
  name: string;
  files: readonly { path: readonly string[] }[];
}

/** A share of one file whose only path component is the share's name is that file itself
 *  (written as <save path>/<name>); anything else is a folder <save path>/<name>/<path…>. */
export function isSingleFile(m: Named): boolean {
  return m.files.length === 1 && m.files[0]!.path.length === 1 && m.files[0]!.path[0] === m.name;
}

/** Where file `index` goes, relative to the save path. */
export function plaintextPath(m: Named, index: number): string[] {
  const f = m.files[index];
  if (!f) throw new RangeError(`no file ${index} in this share`);
  return isSingleFile(m) ? [m.name] : [m.name, ...f.path];
}
