// Registered BEP 10 extensions (api.ts WireExtension) for one torrent: their names go into our
// extended handshake after ut_metadata, ut_pex and ut_holepunch, and their messages pass through untouched. A
// throwing extension is its own fault: the error is reported, the peer stays.

import type { ExtensionPeer, WireExtension } from '../api.ts';
import { extensionLocalId, LOCAL_EXT } from '../wire/extended.ts';
import type { Peer } from './peer.ts';

export class ExtensionHub {
  private readonly extensions: readonly WireExtension[];
  private readonly infoHash: Uint8Array;
  private readonly localPeerId: Uint8Array;
  /** Per connection, one view for each extension (its `send` speaks that extension). */
  private readonly views = new WeakMap<Peer, Map<string, ExtensionPeer>>();
  private readonly onError: (message: string) => void;
  private readonly onPriority: (peer: Peer) => void;

  constructor(
    extensions: readonly WireExtension[], infoHash: Uint8Array, localPeerId: Uint8Array,
    hooks: { onError: (message: string) => void; onPriority: (peer: Peer) => void },
  ) {
    this.extensions = extensions;
    this.infoHash = infoHash;
    this.localPeerId = localPeerId;
    this.onError = hooks.onError;
    this.onPriority = hooks.onPriority;
  }

  names(): string[] {
    return this.extensions.map((e) => e.name);
  }

  /** What our local id `id` stands for. */
  localName(id: number): string | undefined {
    if (id === LOCAL_EXT.ut_metadata) return 'ut_metadata';
    if (id === LOCAL_EXT.ut_pex) return 'ut_pex';
    if (id === LOCAL_EXT.ut_holepunch) return 'ut_holepunch';
    return this.extensions.find((_, i) => extensionLocalId(i) === id)?.name;
  }

  /** The peer's extended handshake arrived: start every extension both sides speak. */
  handshake(peer: Peer): void {
    for (const ext of this.extensions) {
      if (!peer.ext?.m[ext.name] || !ext.onPeer) continue;
      this.guard(ext, () => ext.onPeer!(this.view(peer, ext)));
    }
  }

  /** True when `name` is a registered extension (and its message was handed over). */
  message(peer: Peer, name: string, payload: Uint8Array): boolean {
    const ext = this.extensions.find((e) => e.name === name);
    if (!ext) return false;
    this.guard(ext, () => ext.onMessage(this.view(peer, ext), payload));
    return true;
  }

  closed(peer: Peer): void {
    const views = this.views.get(peer);
    if (!views) return;
    this.views.delete(peer);
    for (const ext of this.extensions) {
      const view = views.get(ext.name);
      if (view && ext.onClose) this.guard(ext, () => ext.onClose!(view));
    }
  }

  private view(peer: Peer, ext: WireExtension): ExtensionPeer {
    let views = this.views.get(peer);
    if (!views) this.views.set(peer, (views = new Map()));
    let v = views.get(ext.name);
    if (!v) {
      v = {
        infoHash: this.infoHash,
        localPeerId: this.localPeerId,
        remotePeerId: peer.remoteId ?? new Uint8Array(20),
        address: peer.address,
        // Only to a peer that advertised the extension; sendExtended drops it otherwise.
        send: (payload) => peer.sendExtended(ext.name, payload),
        setPriority: (priority) => {
          if (peer.closed || peer.priority === priority) return;
          peer.priority = priority;
          this.onPriority(peer);
        },
      };
      views.set(ext.name, v);
    }
    return v;
  }

  private guard(ext: WireExtension, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(`extension ${ext.name}: ${(err as Error).message}`);
    }
  }
}
