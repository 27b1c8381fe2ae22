// Which torrents changed, for a client that keeps something per torrent (totals, a queue, a list's
// rows). Polling every torrent's revision each second costs 10,000 map look-ups a second in a
// library of 10,000 idle seeds; a feed hands over only the torrents whose revision moved since the
// client last asked, so an idle library costs nothing.
//
// A torrent calls note() on every change (every event and tick of an active one). To keep that to a
// number compared, each torrent remembers the epoch it was last put in the feeds: until some feed
// is taken (the epoch moves on) it already is in every feed, and note() returns at once.

/** What the log needs of a torrent: a slot for the epoch it was last put in the feeds. */
export interface ChangeNoted {
  changeEpoch: number;
}

export class ChangeLog<T extends ChangeNoted = ChangeNoted> {
  #epoch = 1;
  readonly #feeds = new Set<{ pending: Set<ChangeNoted>; onChange: (() => void) | undefined }>();

  /** `t`'s revision moved (or it was added). */
  note(t: T): void {
    if (t.changeEpoch === this.#epoch) return;
    t.changeEpoch = this.#epoch;
    for (const f of this.#feeds) {
      const was = f.pending.size;
      f.pending.add(t);
      if (was === 0) f.onChange?.();
    }
  }

  /** A new client's feed: empty at first (the client starts from the session's list). `U`: what
   *  the torrents noted here are (the session knows its own class). */
  feed<U extends T = T>(): ChangeFeed<U> {
    // Torrents noted in this epoch count as being in every feed: not in this one.
    this.#epoch++;
    // Only torrents of the session are noted here: they are U's.
    const f: ChangeFeed<U> = new ChangeFeed<U>(() => this.#epoch++, () => this.#feeds.delete(slot));
    const slot = f as unknown as { pending: Set<ChangeNoted>; onChange: (() => void) | undefined };
    this.#feeds.add(slot);
    return f;
  }
}

export class ChangeFeed<T> {
  pending = new Set<T>();
  /** Called when a change arrives while nothing was pending: a client that stopped looking for
   *  lack of changes (an idle library) looks again, without polling to find out. */
  onChange: (() => void) | undefined;
  readonly #advance: () => void;
  readonly #close: () => void;

  constructor(advance: () => void, close: () => void) {
    this.#advance = advance;
    this.#close = close;
  }

  /** Torrents that changed since the last take(), each once. Removed torrents may be among them:
   *  check the session still has them. */
  take(): Set<T> {
    const out = this.pending;
    if (out.size === 0) return out;
    this.pending = new Set();
    this.#advance();
    return out;
  }

  close(): void {
    this.pending.clear();
    this.#close();
  }
}
