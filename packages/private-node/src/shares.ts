// The node's side of private shares (issue 24): which torrents are private shares, whether this node
// can read each (a key from its own identity's envelope, a link, or its own sharing), and, for those
// it can, the plaintext under the real names. A recipient's node keeps the plaintext only: the
// engine's storage for the share (PlainStorage) decrypts verified pieces as they are written and
// seals them again when they are read. Where that cannot be (the key came after the download began,
// pieces that do not hold whole chunks) the ciphertext is stored and a PlainWriter follows it. The
// engine only ever sees the ciphertext torrent; names and keys stay here.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ChunkCipher, PrivateShareError, checkKey, readPrivateInfo,
  type PrivateInfo, type ShareManifest,
} from '@cascade/private-shares';
import type { Metainfo, Storage, TorrentHandle } from '@cascade/engine';
import {
  DeferredStorage, havePiece,
  type NodeLog, type NodeSecrets, type PrivateShares as NodeShares, type PrivateSharesHost, type PrivateView, type ShareReader, type TorrentEvents,
} from '@cascade/node/private-host';
import { PlainWriter } from './plain-writer.ts';
import { chunkDecryptor, chunkEncryptor, chunkKey, openManifestNode, openWithSecretNode, warmEnvelopeOpening } from '@cascade/private-shares/node';
import { ShareKeys, type KeyOrigin, type ShareKeysDb } from './share-keys.ts';
import { PlainFiles } from './plain-files.ts';
import { PlainStorage } from './plain-storage.ts';
import { PlainWriteWorker } from './plain-worker-client.ts';
import { chunkProgress } from './progress.ts';
import { movePlaintext } from './move-share.ts';

/** What the API shows of a private share. */
export type { PrivateView };

/** The node's private shares, as its layer that starts it loads them (startNode's `privateShares`):
 *  following its torrents from now on, and those it follows already. */
export function openPrivateShares(host: PrivateSharesHost): PrivateShares {
  const shares = new PrivateShares(host.db, host.out, () => host.secrets());
  shares.onChange = (ih) => host.changed(ih);
  shares.follow(host);
  return shares;
}

interface Share {
  info?: PrivateInfo;
  view: PrivateView;
  cipher?: ChunkCipher;
  writer?: PlainWriter;
  /** Kept as plaintext only (PlainStorage): the torrent's verified pieces say what is there. */
  plainStored?: TorrentHandle;
  /** The sharer's node: the plaintext is the original, not written by us. */
  original?: boolean;
  /** Stops the writer's engine listener (and saves what it wrote). */
  detach?: () => void;
  /** Starts the writer again over the share's data at a save path (after a move). */
  restartWriter?: (savePath: string, done: Uint8Array) => Promise<void>;
  /** Settles once #inspect has decided and started what it needs. */
  inspected?: Promise<void>;
}

/** What this node can do with a private share, decided once per torrent load. */
interface Decision {
  key?: Uint8Array;
  origin?: KeyOrigin;
  manifest?: ShareManifest;
  cipher?: ChunkCipher;
  /** Why it cannot be read. */
  error?: unknown;
  /** The engine keeps it as plaintext only (PlainStorage). */
  plainStored: boolean;
  /** Its first load: nothing of it is on disk yet, a download is about to start. */
  fresh?: boolean;
  /** The key and written marker on their way into the state: nothing is written before them. */
  persisted?: Promise<void>;
}

export class PrivateShares implements NodeShares {
  readonly keys: ShareKeys;
  readonly #shares = new Map<string, Share>();
  /** Each load's decision, by the metainfo of the load it was made for (see #decide): a removed
   *  torrent's goes with it. */
  readonly #decisions = new WeakMap<Metainfo, Promise<Decision>>();
  /** Torrents whose storage was made as ciphertext before a key came (a link added again). */
  readonly #cipherStored = new Set<string>();
  readonly #out: NodeLog;
  readonly #identity: () => NodeSecrets;
  /** Something the API shows of a torrent changed (its row must be built again). */
  onChange: (infoHash: string) => void = () => {};

  constructor(db: ShareKeysDb, out: NodeLog, identity: () => NodeSecrets) {
    this.keys = new ShareKeys(db);
    this.#out = out;
    this.#identity = identity;
  }

  /** Follows the node's torrents while they are tracked: each is looked at once its metadata is
   *  there, those tracked already at once. Nothing stays attached to a torrent that is no private
   *  share (a node may hold 10,000). */
  follow(node: TorrentEvents & { readonly session: PrivateSharesHost['session'] }): void {
    // Once the start-up is over: a download of a share for this node does not pay the first call
    // of each primitive (2-3 ms, 5-8 under load) where a public one pays nothing alike.
    setTimeout(() => {
      try {
        warmEnvelopeOpening(this.#identity().secrets);
      } catch {
        // A node closed at once (its state gone): nothing to warm for.
      }
    }, 0).unref();
    const inspect = (t: TorrentHandle) => {
      if (t.metainfo) void this.#inspect(t, () => !node.isTracked(t.infoHashHex));
    };
    node.onTorrentEvent('tracked', inspect);
    node.onTorrentEvent('metadata', inspect);
    node.onTorrentEvent('untracked', (t) => {
      const ih = t.infoHashHex;
      const share = this.#shares.get(ih);
      this.#shares.delete(ih);
      if (t.metainfo) this.#decisions.delete(t.metainfo);
      this.#cipherStored.delete(ih);
      share?.detach?.();
      void share?.writer?.close();
    });
    // Loaded when the node met its first share (node-private.ts): that one, and any before it, are tracked.
    for (const t of node.session.list()) if (node.isTracked(t.infoHashHex)) inspect(t);
  }

  /** This node's own recipient key (added to every share it makes for recipients). */
  ownRecipientKey(): Uint8Array {
    return this.#identity().dhPublic;
  }

  /** A key given for a torrent already loaded (a link added again): kept, and the share looked at again. */
  async useKey(t: TorrentHandle, key: Uint8Array): Promise<void> {
    const ih = t.infoHashHex;
    const before = this.#shares.get(ih);
    if (before?.view.decryptable) return;
    await this.keys.set(ih, key, 'link');
    this.#shares.delete(ih);
    if (t.metainfo) this.#decisions.delete(t.metainfo);
    // Its storage, made without the key, holds ciphertext until the torrent loads again.
    if (t.metainfo) this.#cipherStored.add(ih);
    await this.#inspect(t, () => false);
  }

  /** undefined: not a private share (or its metadata is not known yet). */
  view(infoHash: string): PrivateView | undefined {
    const share = this.#shares.get(infoHash);
    if (!share) return undefined;
    const fileProgress = share.original ? share.view.manifest?.files.map(() => 1) : share.plainStored ? this.#storedProgress(share, share.plainStored) : share.writer?.fileProgress();
    return fileProgress ? { ...share.view, fileProgress } : share.view;
  }

  /** The cipher and manifest of a share this node can read (for streaming plaintext); `plainStored`
   *  when its plaintext is all this node keeps (stream the files), else the ciphertext is there too. */
  reader(infoHash: string): ShareReader | undefined {
    const share = this.#shares.get(infoHash);
    if (!share?.cipher || !share.view.manifest || !share.view.decryptable) return undefined;
    return { cipher: share.cipher, manifest: share.view.manifest, plainStored: !!share.plainStored };
  }

  /** Where a readable share's plaintext is or goes, relative to the save path (for deleting it). */
  plaintextRoot(infoHash: string): string | undefined {
    return this.#shares.get(infoHash)?.view.manifest?.name;
  }

  /**
   * SessionOptions.moveData, while the torrent is suspended: a share this node reads moves with its
   * plaintext (the sharer's original, or what this node wrote of it), then its ciphertext; a failure
   * of either puts both back. A writer following the ciphertext stops for the move and goes on from
   * wherever the data is after it. Keys and the stored progress stay as they are.
   */
  readonly moveData = async (meta: Metainfo, from: string, to: string, standard: () => Promise<void>): Promise<void> => {
    const share = this.#shares.get(meta.infoHashHex);
    await share?.inspected;
    const manifest = share?.view.manifest;
    // Plaintext this node did not make or own stays: a file of that name found first is the user's.
    if (!share || !manifest || !(share.original || share.plainStored || share.writer)) return standard();
    const writer = share.writer;
    const restart = writer && share.view.error === null ? share.restartWriter : undefined;
    share.detach?.();
    share.detach = undefined;
    await writer?.close();
    let at = from;
    try {
      await movePlaintext(manifest, from, to);
      try {
        await standard();
      } catch (err) {
        await movePlaintext(manifest, to, from).catch((back: unknown) => this.#out.note(`private share ${meta.infoHashHex}: its plaintext could not be put back in ${from}: ${(back as Error).message}`));
        throw err;
      }
      at = to;
    } finally {
      if (restart && writer) await restart(at, writer.done);
    }
  };

  #inspect(t: TorrentHandle, stopped: () => boolean): Promise<void> {
    const pending = this.#inspectOnce(t, stopped);
    const share = this.#shares.get(t.infoHashHex);
    if (share && !share.inspected) share.inspected = pending;
    return pending;
  }

  async #inspectOnce(t: TorrentHandle, stopped: () => boolean): Promise<void> {
    const meta = t.metainfo;
    const ih = t.infoHashHex;
    if (!meta || this.#shares.has(ih)) return;
    let info: PrivateInfo | undefined;
    try {
      info = readPrivateInfo(meta.infoBytes);
    } catch (err) {
      this.#shares.set(ih, { view: { decryptable: false, error: unreadable(err) } });
      this.onChange(ih);
      return;
    }
    if (!info) return;
    const share: Share = { info, view: { decryptable: false, error: null } };
    this.#shares.set(ih, share);
    const d = await this.#decide(ih, meta, t.savePath, info);
    try {
      if (d.error !== undefined) throw d.error;
      if (stopped()) return;
      share.cipher = d.cipher;
      share.original = d.origin === 'shared';
      share.view = { decryptable: true, error: null, manifest: d.manifest };
      if (d.plainStored) share.plainStored = t;
      else if (!share.original) await this.#startWriter(t, share, d.cipher!, d.manifest!, d.key!);
    } catch (err) {
      share.view = { decryptable: share.view.decryptable, error: unreadable(err) };
      if (!(err instanceof PrivateShareError)) this.#out.note(`private share ${ih}: ${(err as Error).message}`);
    }
    this.onChange(ih);
  }

  /**
   * The engine's storage for a torrent (SessionOptions.storageFor): a private share this node can
   * read, and did not make, is kept as plaintext only; everything else is stored as it comes.
   */
  readonly storageFor = (meta: Metainfo, savePath: string, standard: () => Storage): Storage => {
    let info: PrivateInfo | undefined;
    try {
      info = readPrivateInfo(meta.infoBytes);
    } catch {
      return standard();
    }
    if (!info) return standard();
    const ih = meta.infoHashHex;
    const found = info;
    return new DeferredStorage(
      this.#decide(ih, meta, savePath, found).then((d) => {
        if (!d.plainStored) return standard();
        const cipher = d.cipher!;
        const runs = Math.max(2, Math.min(16, Math.floor((64 << 20) / meta.pieceLength)));
        const runBytes = (meta.pieceLength / cipher.sealed) * cipher.chunk;
        // CASCADE_PLAIN_WORKER=on decrypts and writes on a thread of its own (plain-worker-client.ts):
        // on 2 shared cores it measured 1.00-1.11x and 0.54-0.61x in turn, always with ~0.3 CPU-s
        // more per 256 MiB (bench/private/README.md), so the engine's thread does it by default.
        const worker =
          process.env.CASCADE_PLAIN_WORKER !== 'on'
            ? undefined
            : new PlainWriteWorker({
                chunkKey: chunkKey(d.key!, found),
                chunkCount: cipher.chunkCount,
                sealed: cipher.sealed,
                chunk: cipher.chunk,
                manifest: d.manifest!,
                savePath,
                runBytes,
                runs,
              });
        // Once per decision: a storage made again for the torrent (after a stop) finds data there.
        const fresh = d.fresh === true;
        d.fresh = false;
        // A download about to start: the thread loads (~0.1 s) while the first pieces come.
        if (fresh) worker?.ready();
        return new PlainStorage({
          worker,
          fresh,
          persisted: d.persisted,
          // Files this download makes, written by this storage alone: the pages pieces share go
          // out whole with O_DIRECT (edge-pages.ts); with a worker, two writers: not so.
          files: new PlainFiles(d.manifest!, savePath, runBytes, runs, { fresh: fresh && !worker }),
          pieceLength: meta.pieceLength,
          cipherLength: cipher.cipherLength,
          sealed: cipher.sealed,
          chunk: cipher.chunk,
          decrypt: chunkDecryptor(d.key!, found, cipher.chunkCount),
          encrypt: chunkEncryptor(d.key!, found, cipher.chunkCount),
          pieceHashes: meta.pieceHashes,
          tampered: (err) => {
            const share = this.#shares.get(ih);
            if (!share) return;
            share.view = { ...share.view, error: unreadable(err) };
            this.#out.note(`private share ${ih}: ${share.view.error}`);
            this.onChange(ih);
          },
        });
      }),
    );
  };

  /**
   * Once per load of a torrent: its key (stored, or from an envelope), manifest and cipher, and
   * whether the engine keeps it as plaintext only. A load is known by its metainfo (the engine's
   * torrent keeps one object): a removal with the data makes a storage to delete the files after
   * the torrent was forgotten ('untracked'), and its decision, kept by infohash, was the next
   * add's of the same share. That add then found the key the removal took, or skipped the
   * written marker its link's key had cleared, and read its own plaintext as someone else's after a
   * restart (bench:crash, 'lost 5 of 5 verified pieces'; private-share-readd.test.ts).
   */
  #decide(ih: string, meta: Metainfo, savePath: string, info: PrivateInfo): Promise<Decision> {
    let d = this.#decisions.get(meta);
    if (!d) this.#decisions.set(meta, (d = this.#makeDecision(ih, meta, savePath, info)));
    return d;
  }

  async #makeDecision(ih: string, meta: Metainfo, savePath: string, info: PrivateInfo): Promise<Decision> {
    try {
      const stored = await this.keys.get(ih);
      let key: Uint8Array;
      let origin: KeyOrigin;
      if (stored) {
        checkKey(info, stored.key);
        ({ key, origin } = stored);
      } else {
        key = await this.#openEnvelope(info);
        origin = 'envelope';
      }
      // node:crypto, synchronously: WebCrypto's two hops through libuv's pool held the start 2-28 ms.
      const manifest = openManifestNode(info, key);
      const cipher = await ChunkCipher.create(key, info, manifest.length);
      if (meta.multiFile || meta.length !== cipher.cipherLength) {
        throw new PrivateShareError('bad-format', `the torrent's file is ${meta.length} bytes; a share of ${manifest.length} bytes in ${info.chunk}-byte chunks is ${cipher.cipherLength}`);
      }
      // A key just found has no written chunks (set clears them), so nothing needs reading.
      let persisted = stored ? undefined : this.keys.set(ih, key, origin);
      // Plaintext only when pieces hold whole chunks, and never over files that are not the share's
      // own (a first load whose folder or file already exists stores the ciphertext, and the writer
      // then says why it does not write).
      let plainStored = origin !== 'shared' && meta.pieceLength % cipher.sealed === 0 && !this.#cipherStored.has(ih);
      let fresh = false;
      if (plainStored && !(stored && (await this.keys.written(ih)))) {
        plainStored = fresh = !(await exists(join(savePath, manifest.name)));
        const key0 = persisted ?? Promise.resolve();
        if (plainStored) persisted = key0.then(() => this.keys.setWritten(ih, new Uint8Array(0)));
      }
      if (fresh && persisted) {
        // The download starts now; the key and the written marker (which makes the files this
        // node's own after a restart) are in the state before its files are made (PlainStorage
        // waits for them): 10-30 ms of state writes off the start in bench:private.
        persisted.catch(() => {}); // the first write reports it
        return { key, origin, manifest, cipher, plainStored, fresh, persisted };
      }
      await persisted;
      return { key, origin, manifest, cipher, plainStored, fresh };
    } catch (err) {
      return { error: err, plainStored: false };
    }
  }

  #storedProgress(share: Share, t: TorrentHandle): number[] | undefined {
    const { cipher, manifest } = share.view.decryptable ? { cipher: share.cipher, manifest: share.view.manifest } : {};
    const pieceLength = t.metainfo?.pieceLength;
    if (!cipher || !manifest || !pieceLength) return undefined;
    return chunkProgress(manifest, cipher.chunk, (c) => havePiece(t, Math.floor((c * cipher.sealed) / pieceLength)));
  }

  /** Which chunks are written, kept (best effort: a few lost to a failed write are decrypted twice). */
  #saveWritten(ih: string, done: Uint8Array): void {
    this.keys.setWritten(ih, done).then(
      () => this.onChange(ih),
      (err: unknown) => this.#out.note(`private share ${ih}: cannot store its written chunks: ${(err as Error).message}`),
    );
  }

  async #openEnvelope(info: PrivateInfo): Promise<Uint8Array> {
    const { did, secrets } = this.#identity();
    for (const secret of secrets) {
      try {
        // node:crypto: @hpke/core (43 modules, X25519 in JavaScript) held a download's start 30-80 ms.
        return openWithSecretNode(info, secret);
      } catch (err) {
        if (!(err instanceof PrivateShareError) || err.code !== 'not-for-you') throw err;
      }
    }
    throw new PrivateShareError(
      'not-for-you',
      info.envelopes.length === 0
        ? 'This share is encrypted and opens only with its link (…#k=…): add it with the link to read it. This node keeps and seeds the ciphertext only.'
        : `This share is encrypted for other people: none of its ${info.envelopes.length} key envelope(s) is for this node (${did}). This node keeps and seeds the ciphertext only.`,
    );
  }

  /** `savePath` and `goOn` after a move: where the data is now, and the chunks written before it. */
  async #startWriter(t: TorrentHandle, share: Share, cipher: ChunkCipher, manifest: ShareManifest, key: Uint8Array, savePath = t.savePath, goOn?: Uint8Array): Promise<void> {
    const ih = t.infoHashHex;
    const meta = t.metainfo!;
    const written = goOn ?? (await this.keys.written(ih));
    const root = join(savePath, manifest.name);
    // A first run never writes over what is already there (the user's own file of that name).
    if (!written && (await exists(root))) {
      throw new Error(`${root} already exists, so this node does not write the share's plaintext over it; move it away and recheck the torrent`);
    }
    let flush: NodeJS.Timeout | undefined;
    const writer = new PlainWriter({
      chunk: cipher.chunk,
      chunkCount: cipher.chunkCount,
      decrypt: chunkDecryptor(key, share.info!, cipher.chunkCount),
      manifest,
      cipherPath: join(savePath, meta.name),
      savePath,
      pieceLength: meta.pieceLength,
      havePiece: (i) => havePiece(t, i),
      done: written ?? new Uint8Array(0),
      progress: (done, complete) => {
        // Written chunks are remembered so a restart does not decrypt them again; a few lost
        // to a crash are only decrypted twice.
        if (complete) {
          clearTimeout(flush);
          this.#saveWritten(ih, done);
        } else {
          flush ??= setTimeout(() => {
            flush = undefined;
            this.#saveWritten(ih, done);
          }, 1000);
        }
      },
      failed: (err) => {
        clearTimeout(flush);
        share.view = { ...share.view, error: unreadable(err) };
        this.#out.note(`private share ${ih}: ${share.view.error}`);
        this.onChange(ih);
      },
    });
    share.writer = writer;
    // Decrypted from memory as pieces arrive (the engine emits piece-data only while someone listens).
    const onPieceData = (piece: number, data: Uint8Array) => writer.pieceData(piece, data);
    const onVerified = (piece: number) => writer.pieceVerified(piece);
    t.on('piece-data', onPieceData);
    t.on('verified', onVerified);
    share.detach = () => {
      t.off('piece-data', onPieceData);
      t.off('verified', onVerified);
      if (flush === undefined) return;
      clearTimeout(flush);
      flush = undefined;
      this.#saveWritten(ih, writer.done);
    };
    share.restartWriter = (to, done) =>
      this.#startWriter(t, share, cipher, manifest, key, to, done).catch((err: unknown) => {
        share.view = { ...share.view, error: unreadable(err) };
        this.#out.note(`private share ${ih}: ${share.view.error}`);
        this.onChange(ih);
      });
    await writer.start();
  }

}

function unreadable(err: unknown): string {
  if (err instanceof PrivateShareError) {
    if (err.code === 'tampered') return `This share was tampered with: ${err.message}. Nothing of that was written as plaintext.`;
    if (err.code === 'bad-format') return `This share is not a valid private share: ${err.message}.`;
    return err.message;
  }
  return `Writing this share's plaintext failed: ${(err as Error).message}`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
