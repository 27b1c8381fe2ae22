// The Cascade BEP 10 extension as the engine's WireExtension (structurally: of our packages this one
// depends only on @cascade/shapes, where the peer's shape is). Per connection: send a challenge
// when both sides speak "cascade", answer the peer's challenge with a signed hello, and verify the
// peer's hello against our own challenge. A hello that does not verify leaves the peer a plain BitTorrent peer; the reason is reported, never trusted.
import { makeBinding, type Binding } from '../keys/binding.ts';
import { b64u, fromB64u } from '../encoding/encoding.ts';
import { decodeMessage, encodeMessage, makeHello, newNonce, verifyHello, type VerifiedHello } from './hello.ts';
import type { Identity } from '../keys/identity.ts';
import type { ExtensionPeer } from '@cascade/shapes';

export const EXTENSION_NAME = 'cascade';

/** What the engine hands an extension for one connection: the engine's ExtensionPeer, one shape in
 *  @cascade/shapes. */
export type WirePeer = ExtensionPeer;

export interface CascadeExtensionOptions {
  client: string;
  /** Our own reputation claim, 0..1. Default 0. */
  reputation?: () => number;
  /** Default: the identity's own binding to its built-in account. */
  binding?: Binding;
  onIdentified(peer: WirePeer, who: VerifiedHello): void;
  onRejected?(peer: WirePeer, reason: string): void;
  /** Messages of other types (receipts…) from a peer whose hello verified; from others they are dropped. */
  onMessage?(peer: WirePeer, message: Record<string, unknown>): void;
}

/** Sends one message of the extension (a JSON object) to the peer. */
export function sendExtensionMessage(peer: WirePeer, message: Record<string, unknown>): void {
  peer.send(encodeMessage(message));
}

interface PeerState {
  nonce: Uint8Array;
  helloSent: boolean;
  /** a hello was judged (verified or not): later ones are ignored */
  judged: boolean;
  verified: boolean;
}

export function cascadeExtension(id: Identity, opts: CascadeExtensionOptions) {
  // Made when the first Cascade peer shows up, not at start: the signatures' curve tables cost
  // some 150 ms of CPU once (5-7 ms with the node's native signatures), which a node that only
  // meets other clients never needs. Not at that peer's challenge either: between its extension
  // handshake and its challenge both ends wait a round trip, and a binding made then is off the
  // way to the first request (issue 40: the seeder signed its first hello ~13 ms after the
  // challenge at load 4, 4 ms of it the binding, while the downloader's interested queued behind).
  let binding = opts.binding;
  let bindingSoon: ReturnType<typeof setTimeout> | undefined;
  const peers = new WeakMap<WirePeer, PeerState>();
  const reject = (peer: WirePeer, reason: string) => opts.onRejected?.(peer, reason);

  return {
    name: EXTENSION_NAME,

    onPeer(peer: WirePeer): void {
      const state: PeerState = { nonce: newNonce(), helloSent: false, judged: false, verified: false };
      peers.set(peer, state);
      peer.send(encodeMessage({ t: 'challenge', v: 1, nonce: b64u(state.nonce) }));
      // After the messages that came with the peer's extension handshake (its bitfield: our
      // interest), in the round trip before its challenge.
      if (!binding && !bindingSoon) {
        bindingSoon = setTimeout(() => {
          try {
            binding ??= makeBinding(id);
          } catch {
            // Made again at the challenge, where a failure is the hello's (reported on that peer).
          }
        }, 0);
      }
    },

    onMessage(peer: WirePeer, payload: Uint8Array): void {
      const state = peers.get(peer);
      if (!state) return reject(peer, 'message before both sides advertised the extension');
      const m = decodeMessage(payload);
      if (m instanceof Error) return reject(peer, m.message);
      if (m.t === 'challenge') {
        if (state.helloSent) return;
        let theirNonce: Uint8Array;
        try {
          theirNonce = fromB64u(String(m.nonce));
        } catch {
          return reject(peer, 'challenge nonce is not base64url');
        }
        if (theirNonce.length !== 16) return reject(peer, 'challenge nonce is not 16 bytes');
        state.helloSent = true;
        const conn = { infoHash: peer.infoHash, senderPeerId: peer.localPeerId, receiverPeerId: peer.remotePeerId, receiverNonce: theirNonce };
        peer.send(encodeMessage(makeHello(id, (binding ??= makeBinding(id)), conn, { client: opts.client, reputation: opts.reputation?.() ?? 0 })));
        return;
      }
      if (m.t === 'hello') {
        if (state.judged) return;
        state.judged = true;
        const conn = { infoHash: peer.infoHash, senderPeerId: peer.remotePeerId, receiverPeerId: peer.localPeerId, receiverNonce: state.nonce };
        const who = verifyHello(m, conn);
        if (who instanceof Error) return reject(peer, who.message);
        state.verified = true;
        return opts.onIdentified(peer, who);
      }
      // Other types are for who proved an identity; types nobody handles are for later versions.
      if (state.verified) opts.onMessage?.(peer, m);
    },

    onClose(peer: WirePeer): void {
      peers.delete(peer);
    },
  };
}
