// What a node can tell of a private share it holds: whether it can read it, and what it holds.

import type { ShareManifest } from '@cascade/private-shares';

export interface PrivateView {
  decryptable: boolean;
  /** Why it cannot be read, or what went wrong reading it, in plain words; null when all is well. */
  error: string | null;
  /** Present when decryptable. */
  manifest?: ShareManifest;
  /** Each file's share of plaintext written (decryptable, on a node that writes it). */
  fileProgress?: number[];
}
