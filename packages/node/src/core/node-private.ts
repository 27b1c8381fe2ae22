// A node's seam to its private shares (issue 24; issue 64: what reads them is @cascade/private-node,
// above the node). The layer that starts a node hands in how to load it (startNode's
// `plugins.privateShares`: its dynamic import()), and the node loads it the first time it meets a
// private share: a torrent whose info dictionary has one (the `cascade-private` entry, read here
// alone), a link's key, a share made here. A node that holds none never loads it. Until then (and
// in a node given no loader) the listing and the detail show no share as one and every torrent is
// stored as it comes; the content ids skip the shares all the same (isShare). The node keeps this
// as `node.privateShares` (NodePrivateShares, below): what it and its doors ask of them.

import type { ChunkCipher, ShareManifest } from '@cascade/private-shares';
import { decode, isDict } from '@cascade/engine/bencode';
import type { Metainfo, SessionHandle, SessionOptions, Storage, TorrentHandle } from './engine.ts';
import type { NodeLog, TorrentEvents } from './node-parts.ts';
import type { StateDB } from '@cascade/node-state';
import { NodeError, errorMessage } from '@cascade/node-state/errors';
import { DeferredStorage } from './deferred-storage.ts';

/** The info dictionary's entry that makes a torrent a private share (docs/private-shares.md;
 *  @cascade/private-shares' INFO_KEY, which @cascade/private-node's tests hold it to). */
export const PRIVATE_INFO_KEY = 'cascade-private';

/** Whether a torrent's raw info dictionary has a private share's entry, usable or not (what reads
 *  shares says which), without loading it: false for one that does not decode, which no torrent the
 *  engine loaded is. */
export function hasPrivateInfo(infoBytes: Uint8Array): boolean {
  try {
    const info = decode(infoBytes, { shape: { [PRIVATE_INFO_KEY]: true } }).value;
    return isDict(info) && info[PRIVATE_INFO_KEY] !== undefined;
  } catch {
    return false;
  }
}

/** What a node can tell of a private share it holds: whether it can read it, and what it holds. */
export interface PrivateView {
  decryptable: boolean;
  /** Why it cannot be read, or what went wrong reading it, in plain words; null when all is well. */
  error: string | null;
  /** Present when decryptable. */
  manifest?: ShareManifest;
  /** Each file's share of plaintext written (decryptable, on a node that writes it). */
  fileProgress?: number[];
}

/** shared: this node made the share (its plaintext is the original); link: added with a link's
 *  key; envelope: opened with this node's identity. */
export type KeyOrigin = 'shared' | 'link' | 'envelope';

export interface NodeSecrets {
  did: string;
  /** This node's X25519 public key: a share it makes for others opens for it too. */
  dhPublic: Uint8Array;
  /** X25519 secrets to try on envelopes: the identity's own, then an older one it had. */
  secrets: Uint8Array[];
}

/** What the private shares are handed: the node's state, log, torrents and identity. */
export interface PrivateSharesHost extends TorrentEvents {
  readonly db: StateDB;
  readonly out: NodeLog;
  readonly session: Pick<SessionHandle, 'list'>;
  secrets(): NodeSecrets;
  /** Something the API shows of a torrent changed (its row must be built again). */
  changed(infoHash: string): void;
}

/** A share's keys as the node's doors set them (a link's, a share made here) and drop them. */
export interface ShareKeyStore {
  set(infoHash: string, key: Uint8Array, origin: KeyOrigin): Promise<void>;
  delete(infoHash: string): Promise<void>;
}

/** A readable share's cipher and manifest (for streaming plaintext); `plainStored` when its
 *  plaintext is all this node keeps (stream the files), else the ciphertext is there too. */
export interface ShareReader {
  cipher: ChunkCipher;
  manifest: ShareManifest;
  plainStored: boolean;
}

/** What @cascade/private-node gives the node once loaded (its PrivateShares). */
export interface PrivateShares {
  readonly keys: ShareKeyStore;
  view(infoHash: string): PrivateView | undefined;
  reader(infoHash: string): ShareReader | undefined;
  plaintextRoot(infoHash: string): string | undefined;
  useKey(t: TorrentHandle, key: Uint8Array): Promise<void>;
  readonly storageFor: NonNullable<SessionOptions['storageFor']>;
  readonly moveData: NonNullable<SessionOptions['moveData']>;
}

/** How the layer starting a node loads its private shares: `() => import('@cascade/private-node')
 *  .then((m) => m.openPrivateShares)`, called the first time the node needs them. */
export type LoadPrivateShares = () => Promise<(host: PrivateSharesHost) => PrivateShares>;

/** node.privateShares: the loaded private shares' answers, or none's, and the loading. */
export class NodePrivateShares {
  readonly #host: PrivateSharesHost;
  readonly #load: LoadPrivateShares | undefined;
  #shares: PrivateShares | undefined;
  #loading: Promise<PrivateShares> | undefined;
  /** The tracked torrents that are private shares, read here or not. */
  readonly #seen = new Set<string>();

  /** Looks at each torrent's info dictionary once it is known: the first private share loads them. */
  constructor(host: PrivateSharesHost, load: LoadPrivateShares | undefined) {
    this.#host = host;
    this.#load = load;
    const look = (t: TorrentHandle) => {
      const ih = t.infoHashHex;
      if (!t.metainfo || this.#seen.has(ih) || !hasPrivateInfo(t.metainfo.infoBytes)) return;
      this.#seen.add(ih);
      if (load && !this.#loading) this.ready().catch((err: unknown) => host.out.note(`private shares: ${errorMessage(err)}`));
    };
    host.onTorrentEvent('tracked', look);
    host.onTorrentEvent('metadata', look);
    host.onTorrentEvent('untracked', (t) => this.#seen.delete(t.infoHashHex));
  }

  /** Whether a tracked torrent is a private share, whether or not this node reads it (nothing of
   *  its ciphertext is indexed or published): known from its info dictionary before they load. */
  isShare(infoHash: string): boolean {
    return this.#seen.has(infoHash);
  }

  /** The private shares, loaded (once) if they are not yet. */
  ready(): Promise<PrivateShares> {
    if (this.#shares) return Promise.resolve(this.#shares);
    const load = this.#load;
    if (!load) return Promise.reject(new NodeError('unusable', 'this node was started without private shares'));
    this.#loading ??= load().then((open) => (this.#shares = open(this.#host)));
    return this.#loading;
  }

  readonly keys: ShareKeyStore = {
    set: async (infoHash, key, origin) => (await this.ready()).keys.set(infoHash, key, origin),
    delete: async (infoHash) => (await this.ready()).keys.delete(infoHash),
  };

  /** undefined: not a private share (or its metadata is not known yet, or none is loaded). */
  view(infoHash: string): PrivateView | undefined {
    return this.#shares?.view(infoHash);
  }

  reader(infoHash: string): ShareReader | undefined {
    return this.#shares?.reader(infoHash);
  }

  /** Where a readable share's plaintext is or goes, relative to the save path (for deleting it). */
  plaintextRoot(infoHash: string): string | undefined {
    return this.#shares?.plaintextRoot(infoHash);
  }

  /** A key given for a torrent already loaded (a link added again): kept, and the share looked at again. */
  async useKey(t: TorrentHandle, key: Uint8Array): Promise<void> {
    await (await this.ready()).useKey(t, key);
  }

  /** This node's own recipient key (added to every share it makes for recipients). */
  ownRecipientKey(): Uint8Array {
    return this.#host.secrets().dhPublic;
  }

  /** SessionOptions.storageFor: a private share's, from the private shares (waited for while they
   *  load); any other torrent's, the engine's own. */
  readonly storageFor = (meta: Metainfo, savePath: string, standard: () => Storage): Storage => {
    if (this.#shares) return this.#shares.storageFor(meta, savePath, standard);
    if (!this.#load || !hasPrivateInfo(meta.infoBytes)) return standard();
    return new DeferredStorage(this.ready().then((s) => s.storageFor(meta, savePath, standard)));
  };

  /** SessionOptions.moveData: a private share's plaintext moves with it (the private shares'). */
  readonly moveData = async (meta: Metainfo, from: string, to: string, standard: () => Promise<void>): Promise<void> => {
    if (this.#shares) return this.#shares.moveData(meta, from, to, standard);
    if (!this.#load || !hasPrivateInfo(meta.infoBytes)) return standard();
    return (await this.ready()).moveData(meta, from, to, standard);
  };
}
