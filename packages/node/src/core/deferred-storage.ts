// A storage chosen once something asynchronous is known (a private share's key, the private shares
// themselves while they load: node-private.ts): the engine's calls wait for it.
import type { FileStat, Storage } from './engine.ts';

export class DeferredStorage implements Storage {
  #storage: Storage | undefined;
  readonly #ready: Promise<Storage>;

  constructor(choice: Promise<Storage>) {
    this.#ready = choice.then((s) => (this.#storage = s));
  }

  #use<T>(fn: (s: Storage) => Promise<T>): Promise<T> {
    return this.#storage ? fn(this.#storage) : this.#ready.then(fn);
  }

  writePiece(index: number, data: Uint8Array): Promise<void> {
    return this.#use((s) => s.writePiece(index, data));
  }

  readPiece(index: number, into?: Uint8Array): Promise<Uint8Array> {
    return this.#use((s) => s.readPiece(index, into));
  }

  fileStats(files?: readonly number[]): Promise<(FileStat | undefined)[]> {
    return this.#use((s) => s.fileStats(files));
  }

  close(): Promise<void> {
    return this.#use((s) => s.close());
  }

  destroy(): Promise<void> {
    return this.#use((s) => s.destroy());
  }
}
