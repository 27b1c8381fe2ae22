// One peer connection as a BEP 10 extension plugged in from outside the engine sees it: what the
// engine hands its WireExtension (engine/src/api.ts) and what identity's Cascade hello
// (identity/src/wire/wire-extension.ts) works with, defined here once because the engine and
// identity may import no package of ours but this one.

/** One connection as an extension sees it. The same object for the life of the connection. */
export interface ExtensionPeer {
  readonly infoHash: Uint8Array;
  readonly localPeerId: Uint8Array;
  readonly remotePeerId: Uint8Array;
  /** "host:port", or "webrtc:<peer id hex>" */
  readonly address: string;
  send(payload: Uint8Array): void;
  /** Upload preference (default 0): a higher one is unchoked first and may take the slot of a
   *  lower one at once (the Cascade "fast lane" for verified peers with good reputation). The
   *  engine always gives it; a host without a fast lane (a test's pipe) may leave it out. */
  setPriority?(priority: number): void;
}
