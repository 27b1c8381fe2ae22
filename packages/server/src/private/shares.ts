// The node's side of private shares (issue 24): which torrents are private shares, whether this node
// can read each (a key from its own identity's envelope, a link, or its own sharing), and, for those
// it can, the plaintext written under the real names as the ciphertext downloads. The engine only
// ever sees the ciphertext torrent; names and keys stay here.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ChunkCipher, PrivateShareError, checkKey, openManifest, openWithSecret, readPrivateInfo,
  type PrivateInfo, type ShareManifest,
} from '@cascade/private-shares';
import type { TorrentHandle } from '../engine.ts';
import type { StateDB } from '../state.ts';
import type { NodeLog } from '../node.ts';
import { havePiece } from '../torrent-view.ts';
import { PlainWriter } from './plain-writer.ts';
import { chunkDecryptor } from '@cascade/private-shares/node';
import { ShareKeys, type KeyOrigin } from './share-keys.ts';

/** What the API shows of a private share. */
export interface PrivateView {
  decryptable: boolean;
  /** Why it cannot be read, or what went wrong reading it, in plain words; null when all is well. */
  error: string | null;
  /** Present when decryptable. */
  manifest?: ShareManifest;
  /** Each file's share of plaintext written (decryptable, on a node that writes it). */
  fileProgress?: number[];
}

interface Share {
  info?: PrivateInfo;
  view: PrivateView;
  cipher?: ChunkCipher;
  writer?: PlainWriter;
  /** The sharer's node: the plaintext is the original, not written by us. */
  original?: boolean;
  /** Stops the writer's engine listener. */
  detach?: () => void;
}

export interface NodeSecrets {
  did: string;
  /** This node's X25519 public key: a share it makes for others opens for it too. */
  dhPublic: Uint8Array;
  /** X25519 secrets to try on envelopes: the identity's own, then an older one it had. */
  secrets: Uint8Array[];
}

export class PrivateShares {
  readonly keys: ShareKeys;
  readonly #shares = new Map<string, Share>();
  readonly #out: NodeLog;
  readonly #identity: () => NodeSecrets;
  /** Something the API shows of a torrent changed (its row must be built again). */
  onChange: (infoHash: string) => void = () => {};

  constructor(db: StateDB, out: NodeLog, identity: () => NodeSecrets) {
    this.keys = new ShareKeys(db);
    this.#out = out;
    this.#identity = identity;
  }

  /** A node watcher (CascadeNode.watchers): follows a torrent while it is tracked. */
  readonly watch = (t: TorrentHandle): (() => void) => {
    let stopped = false;
    const onMetadata = () => void this.#inspect(t, () => stopped);
    const onVerified = (piece: number) => this.#shares.get(t.infoHashHex)?.writer?.pieceVerified(piece);
    if (t.metainfo) onMetadata();
    else t.once('metadata', onMetadata);
    t.on('verified', onVerified);
    return () => {
      stopped = true;
      t.off('metadata', onMetadata);
      t.off('verified', onVerified);
      const share = this.#shares.get(t.infoHashHex);
      this.#shares.delete(t.infoHashHex);
      share?.detach?.();
      void share?.writer?.close();
    };
  };

  /** This node's own recipient key (added to every share it makes for recipients). */
  ownRecipientKey(): Uint8Array {
    return this.#identity().dhPublic;
  }

  /** A key given for a torrent already loaded (a link added again): kept, and the share looked at again. */
  async useKey(t: TorrentHandle, key: Uint8Array): Promise<void> {
    const ih = t.infoHashHex;
    const before = this.#shares.get(ih);
    if (before?.view.decryptable) return;
    this.keys.set(ih, key, 'link');
    this.#shares.delete(ih);
    await this.#inspect(t, () => false);
  }

  /** undefined: not a private share (or its metadata is not known yet). */
  view(infoHash: string): PrivateView | undefined {
    const share = this.#shares.get(infoHash);
    if (!share) return undefined;
    const fileProgress = share.original ? share.view.manifest?.files.map(() => 1) : share.writer?.fileProgress();
    return fileProgress ? { ...share.view, fileProgress } : share.view;
  }

  /** The key and cipher of a share this node can read (for streaming plaintext). */
  reader(infoHash: string): { cipher: ChunkCipher; manifest: ShareManifest } | undefined {
    const share = this.#shares.get(infoHash);
    return share?.cipher && share.view.manifest && share.view.decryptable ? { cipher: share.cipher, manifest: share.view.manifest } : undefined;
  }

  /** Where a readable share's plaintext is or goes, relative to the save path (for deleting it). */
  plaintextRoot(infoHash: string): string | undefined {
    return this.#shares.get(infoHash)?.view.manifest?.name;
  }

  async #inspect(t: TorrentHandle, stopped: () => boolean): Promise<void> {
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
    try {
      const stored = this.keys.get(ih);
      let key: Uint8Array;
      let origin: KeyOrigin;
      if (stored) {
        checkKey(info, stored.key);
        ({ key, origin } = stored);
      } else {
        key = await this.#openEnvelope(info);
        origin = 'envelope';
      }
      const manifest = await openManifest(info, key);
      const cipher = await ChunkCipher.create(key, info, manifest.length);
      if (meta.multiFile || meta.length !== cipher.cipherLength) {
        throw new PrivateShareError('bad-format', `the torrent's file is ${meta.length} bytes; a share of ${manifest.length} bytes in ${info.chunk}-byte chunks is ${cipher.cipherLength}`);
      }
      if (!stored) this.keys.set(ih, key, origin);
      if (stopped()) return;
      share.cipher = cipher;
      share.original = origin === 'shared';
      share.view = { decryptable: true, error: null, manifest };
      if (!share.original) await this.#startWriter(t, share, cipher, manifest, key);
    } catch (err) {
      share.view = { decryptable: share.view.decryptable, error: unreadable(err) };
      if (!(err instanceof PrivateShareError)) this.#out.note(`private share ${ih}: ${(err as Error).message}`);
    }
    this.onChange(ih);
  }

  async #openEnvelope(info: PrivateInfo): Promise<Uint8Array> {
    const { did, secrets } = this.#identity();
    for (const secret of secrets) {
      try {
        return await openWithSecret(info, secret);
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

  async #startWriter(t: TorrentHandle, share: Share, cipher: ChunkCipher, manifest: ShareManifest, key: Uint8Array): Promise<void> {
    const ih = t.infoHashHex;
    const meta = t.metainfo!;
    const written = this.keys.written(ih);
    const root = join(t.savePath, manifest.name);
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
      cipherPath: join(t.savePath, meta.name),
      savePath: t.savePath,
      pieceLength: meta.pieceLength,
      havePiece: (i) => havePiece(t, i),
      done: written ?? new Uint8Array(0),
      progress: (done, complete) => {
        // Written chunks are remembered so a restart does not decrypt them again; a few lost
        // to a crash are only decrypted twice.
        if (complete) {
          clearTimeout(flush);
          this.keys.setWritten(ih, done);
          this.onChange(ih);
        } else {
          flush ??= setTimeout(() => {
            flush = undefined;
            this.keys.setWritten(ih, done);
            this.onChange(ih);
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
    t.on('piece-data', onPieceData);
    share.detach = () => t.off('piece-data', onPieceData);
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
