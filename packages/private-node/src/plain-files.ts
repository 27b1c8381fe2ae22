// A private share's plaintext files under their real names: ranges of the plaintext stream (every
// file's bytes in manifest order) written and read across the files they cover. Runs are copied
// into page-aligned memory so they go to disk with O_DIRECT, as the engine's piece writes do, the
// pages they share with their neighbours too where edge-pages.ts can make them whole; the rest, and
// everything where O_DIRECT is not available, use the page cache.
import { constants } from 'node:fs';
import { mkdir, open, readdir, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { plaintextPath, type ShareManifest } from '@cascade/private-shares/plain-writing';
import { DIRECT_ALIGN, O_DIRECT, isDirectAligned } from '@cascade/engine/direct-io';
import { AlignedSlots, type AlignedRun } from './aligned-slots.ts';
import { EdgePages, type EdgePlan } from './edge-pages.ts';

/** Shares of more files than this open a file for each write instead of keeping it open. */
const KEEP_OPEN = 32;

export class PlainFiles {
  readonly manifest: ShareManifest;
  readonly #savePath: string;
  /** Plaintext offset where each file starts. */
  readonly #offsets: number[];
  /** Each file's path, made (empty) the first time; its handle while kept open. */
  readonly #paths = new Map<number, Promise<string>>();
  readonly #handles = new Map<number, Promise<FileHandle>>();
  /** Second handles opened with O_DIRECT (while it works here), for the aligned middles of runs. */
  readonly #directHandles = new Map<number, Promise<FileHandle | undefined>>();
  #direct = O_DIRECT !== undefined;
  #slots: AlignedSlots | undefined;
  readonly #runBytes: number;
  readonly #slotCount: number;
  readonly #edges = new EdgePages();
  /** Bytes written with O_DIRECT, and writes through the page cache (diagnostics and tests). */
  directBytes = 0;
  pageCacheWrites = 0;
  /** The files are new for this download and nothing else writes them (see makeAll). */
  #fresh: boolean;
  /** makeAll's new files on their way: handles asked for meanwhile wait for them rather than open
   *  a second one that the made file's handle would replace (and leave to the garbage collector). */
  #creating: Promise<unknown> | undefined;

  /**
   * `runBytes`, `runs`: the longest range written at once, and how many at once, for aligned memory.
   * `fresh`: this is the only writer of files this download makes: where they are still empty when
   * made, a page's part no write has touched may be written as zeros (edge-pages.ts).
   */
  constructor(manifest: ShareManifest, savePath: string, runBytes: number, runs: number, opts: { fresh?: boolean } = {}) {
    this.manifest = manifest;
    this.#fresh = opts.fresh === true;
    this.#savePath = savePath;
    let at = 0;
    this.#offsets = manifest.files.map((f) => ((at += f.length), at - f.length));
    this.#runBytes = runBytes;
    this.#slotCount = runs;
  }

  /** Where the share's files go: its folder (or its one file) in the save path. */
  get root(): string {
    return join(this.#savePath, this.manifest.name);
  }

  /** Makes every file (empty ones too) without truncating what is there. */
  async makeAll(): Promise<void> {
    if (this.#fresh && this.manifest.files.length <= KEEP_OPEN) {
      this.#fresh = false;
      // Made new and kept open in one call each (the general way below takes five in a row: 10-60 ms
      // of a recipient's first write under load in bench:private). Files made new are empty.
      const creating = Promise.all(this.manifest.files.map((_, i) => this.#create(i)));
      this.#creating = creating.catch(() => {});
      const made = await creating;
      if (made.every(Boolean)) this.#edges.zeroFill(this.manifest.files.map((f) => f.length));
      // One found there (made since the share was found fresh) is not this download's alone.
      for (let i = 0; i < made.length; i++) if (!made[i]) await this.#path(i);
      return;
    }
    await this.#creating;
    for (let i = 0; i < this.manifest.files.length; i++) await this.#path(i);
    if (!this.#fresh) return;
    this.#fresh = false; // once: a later makeAll finds the files written
    for (let i = 0; i < this.manifest.files.length; i++) if ((await stat(await this.#path(i))).size !== 0) return;
    this.#edges.zeroFill(this.manifest.files.map((f) => f.length));
  }

  /** Opens the files (made) and takes aligned memory ahead of the first write; errors are left
   *  to the writes to meet. */
  async warm(): Promise<void> {
    if (this.manifest.files.length > KEEP_OPEN) return;
    if (this.#direct) this.#slots ??= new AlignedSlots(this.#runBytes, this.#slotCount);
    await this.#creating;
    await Promise.all(this.manifest.files.map((_, i) => Promise.all([this.#handle(i), this.#direct ? this.#directHandle(i) : undefined]).catch(() => {})));
  }

  /** Writes plaintext [from, from + total of parts) to the files it covers. The parts are copied
   *  or taken (the list too) before this returns its promise: the caller may let go of them. */
  async write(from: number, given: readonly Uint8Array[]): Promise<void> {
    const parts = [...given];
    let total = 0;
    for (const p of parts) total += p.length;
    const aligned = this.#slotsFor()?.take(parts, from);
    if (aligned) return this.writeRun(from, aligned);
    const to = Math.min(this.manifest.length, from + total);
    const whole = parts.length === 1 ? Buffer.from(parts[0]!.buffer, parts[0]!.byteOffset, parts[0]!.length) : undefined;
    for (const [i, start, end] of this.#spans(from, to)) {
      const position = start - this.#offsets[i]!;
      const bytes = whole ? [whole.subarray(start - from, end - from)] : slices(parts, start - from, end - from);
      await this.#inTurn(this.#edges.planPlain(i, position, end - start), () => this.#write(i, bytes, position));
    }
  }

  /**
   * Aligned memory for plaintext [from, from + length) that the caller fills and gives to
   * writeRun (or releases): a piece's chunks are decrypted into it one at a time, each copied
   * while it is still in the cache and garbage at once. undefined where O_DIRECT is not used or
   * no slot can be had (then write takes the parts).
   */
  reserve(from: number, length: number): AlignedRun | undefined {
    return this.#slotsFor()?.reserve(length, from);
  }

  /** Writes a run from reserve (filled: plaintext [from, from + its length)); its memory goes back
   *  when the writes are done. */
  async writeRun(from: number, run: AlignedRun): Promise<void> {
    try {
      const to = Math.min(this.manifest.length, from + run.bytes.length);
      for (const [i, start, end] of this.#spans(from, to)) {
        // The slot's memory before the run's first byte and after its last is free for edge pages.
        await this.#writeAligned(i, run.bytes.subarray(start - from, end - from), start - this.#offsets[i]!, start === from, end === to);
      }
    } finally {
      run.release();
    }
  }

  #slotsFor(): AlignedSlots | undefined {
    if (this.#direct && this.manifest.files.length <= KEEP_OPEN) this.#slots ??= new AlignedSlots(this.#runBytes, this.#slotCount);
    return this.#direct ? this.#slots : undefined;
  }

  /** Reads plaintext [from, from + into.length) into `into` (past the end of the share: zeros);
   *  rejects when a file is missing or shorter than the range needs. */
  async read(from: number, into: Uint8Array): Promise<void> {
    const to = Math.min(this.manifest.length, from + into.length);
    into.fill(0, Math.max(0, to - from));
    for (const [i, start, end] of this.#spans(from, to)) {
      const fh = await this.#readHandle(i);
      try {
        let done = 0;
        while (start + done < end) {
          const { bytesRead } = await fh.handle.read(into, start - from + done, end - start - done, start - this.#offsets[i]! + done);
          if (bytesRead === 0) throw new Error(`${plaintextPath(this.manifest, i).join('/')} is shorter than this share says`);
          done += bytesRead;
        }
      } finally {
        await fh.done();
      }
    }
  }

  /** The newest mtime of the files, or undefined when one of them is missing. */
  async newestMtime(): Promise<number | undefined> {
    let newest = 0;
    for (let i = 0; i < this.manifest.files.length; i++) {
      const s = await stat(this.#filePath(i)).catch(() => undefined);
      if (!s) return undefined;
      newest = Math.max(newest, Math.floor(s.mtimeMs));
    }
    return newest;
  }

  async close(): Promise<void> {
    const handles = [...this.#handles.values(), ...this.#directHandles.values()];
    this.#handles.clear();
    this.#directHandles.clear();
    this.#paths.clear();
    this.#slots = undefined;
    this.#edges.clear();
    await Promise.all(handles.map((h) => h.then((fh) => fh?.close()).catch(() => {})));
  }

  /** Closes and deletes the files, and the folders left empty. */
  async destroy(): Promise<void> {
    await this.close();
    const dirs = new Set<string>();
    for (let i = 0; i < this.manifest.files.length; i++) {
      const path = this.#filePath(i);
      await unlink(path).catch(() => {});
      for (let d = dirname(path); d.length > this.#savePath.length; d = dirname(d)) dirs.add(d);
    }
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      if ((await readdir(d).catch(() => ['?'])).length === 0) await rmdir(d).catch(() => {});
    }
  }

  /** [file, start, end) of each file the plaintext range [from, to) covers. */
  *#spans(from: number, to: number): Generator<[number, number, number]> {
    for (let i = 0; i < this.manifest.files.length; i++) {
      const start = Math.max(from, this.#offsets[i]!);
      const end = Math.min(to, this.#offsets[i]! + this.manifest.files[i]!.length);
      if (start < end) yield [i, start, end];
    }
  }

  async #readHandle(i: number): Promise<{ handle: FileHandle; done: () => Promise<void> }> {
    const path = this.#filePath(i);
    if (this.manifest.files.length > KEEP_OPEN) {
      const handle = await open(path, 'r');
      return { handle, done: () => handle.close() };
    }
    return { handle: await this.#handle(i), done: async () => {} };
  }

  #handle(i: number): Promise<FileHandle> {
    let fh = this.#handles.get(i);
    if (!fh) {
      this.#handles.set(i, (fh = this.#path(i).then((p) => open(p, 'r+'))));
      fh.catch(() => this.#handles.get(i) === fh && this.#handles.delete(i));
    }
    return fh;
  }

  async #write(i: number, parts: Uint8Array[], position: number): Promise<void> {
    this.pageCacheWrites++;
    if (this.manifest.files.length > KEEP_OPEN) {
      // A share may have more files than a process may hold open.
      const fh = await open(await this.#path(i), 'r+');
      try {
        await writeAll(fh, parts, position);
      } finally {
        await fh.close();
      }
      return;
    }
    await writeAll(await this.#handle(i), parts, position);
  }

  /**
   * Bytes whose memory lines up with their file position within a page go out with O_DIRECT,
   * and with them the pages they share with their neighbours where those can be made whole
   * (edge-pages.ts; `head`/`tail`: the slot's page before/after them is free); the other edges
   * (under a page each) through the page cache.
   */
  async #writeAligned(i: number, data: Buffer, position: number, head: boolean, tail: boolean): Promise<void> {
    const a = (DIRECT_ALIGN - (position % DIRECT_ALIGN)) % DIRECT_ALIGN;
    const lined = this.#direct && data.length > a && isDirectAligned(data.subarray(a));
    const direct = lined ? await this.#directHandle(i) : undefined;
    if (!direct) return this.#inTurn(this.#edges.planPlain(i, position, data.length), () => this.#write(i, [data], position));
    const plan = this.#edges.plan(i, this.manifest.files[i]!.length, data, position, head, tail);
    const whole = plan.direct;
    await this.#inTurn(plan, async () => {
      await Promise.all([
        ...plan.buffered.map(([bytes, at]) => this.#write(i, [bytes], at)),
        whole &&
          writeAll(direct, [whole.bytes], whole.position).then(() => void (this.directBytes += whole.bytes.length), (err: NodeJS.ErrnoException) => {
            // EINVAL: this filesystem breaks the alignment rules after all; the page cache it is.
            if (err.code !== 'EINVAL' && err.code !== 'EOPNOTSUPP') throw err;
            this.#direct = false;
            return this.#write(i, [whole.bytes], whole.position);
          }),
      ]);
    });
  }

  /** Runs `write` once the writes of the same edge pages planned before it are done. */
  async #inTurn(plan: Pick<EdgePlan, 'after' | 'track'>, write: () => Promise<void>): Promise<void> {
    const done = plan.after.length > 0 ? Promise.all(plan.after).then(write) : write();
    plan.track(done);
    await done;
  }

  #directHandle(i: number): Promise<FileHandle | undefined> {
    let h = this.#directHandles.get(i);
    if (!h) {
      h = this.#path(i)
        .then((p) => open(p, constants.O_RDWR | O_DIRECT!))
        .catch(() => {
          // Not every filesystem opens with O_DIRECT.
          this.#direct = false;
          return undefined;
        });
      this.#directHandles.set(i, h);
    }
    return h;
  }

  /** Creates file i, new and empty, and keeps it open read-write; false when it is there already. */
  async #create(i: number): Promise<boolean> {
    const path = this.#filePath(i);
    const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL;
    let fh: FileHandle;
    try {
      fh = await open(path, flags).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await mkdir(dirname(path), { recursive: true });
        return open(path, flags);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    this.#paths.set(i, Promise.resolve(path));
    this.#handles.set(i, Promise.resolve(fh));
    return true;
  }

  /** Where file i's plaintext lives. */
  #filePath(i: number): string {
    return join(this.#savePath, ...plaintextPath(this.manifest, i));
  }

  /** File i's path, made (empty) the first time: 'a' creates without truncating what is there. */
  #path(i: number): Promise<string> {
    let made = this.#paths.get(i);
    if (!made) {
      const path = this.#filePath(i);
      made = mkdir(dirname(path), { recursive: true })
        .then(() => open(path, 'a'))
        .then((h) => h.close())
        .then(() => path);
      this.#paths.set(i, made);
      made.catch(() => this.#paths.get(i) === made && this.#paths.delete(i));
    }
    return made;
  }
}

/** Bytes [start, end) of parts laid end to end, as views (nothing copied). */
function slices(parts: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of parts) {
    const s = Math.max(start, at);
    const e = Math.min(end, at + p.length);
    if (s < e) out.push(p.subarray(s - at, e - at));
    at += p.length;
    if (at >= end) break;
  }
  return out;
}

/** One writev where it can; again from where a short write stopped. */
async function writeAll(fh: FileHandle, parts: Uint8Array[], position: number): Promise<void> {
  let rest = parts;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length;
    if (skip > 0) rest[0] = rest[0]!.subarray(skip);
    if (bytesWritten === 0) throw new Error('the disk took no bytes');
  }
}
