// Waiting on a torrent's state. Events carry the news, but a torrent may already be complete
// (fast resume) or failed by the time add() resolves, so every wait also checks stats() up front
// and polls as a safety net.

import { errorMessage } from '@cascade/node';
import type { TorrentHandle } from '../core/engine.ts';

export type Verification = 'complete' | 'incomplete';

/**
 * Resolves once the engine has checked existing data: 'complete' when it seeds, 'incomplete' when it
 * settles into downloading. Assumes the engine reports 'checking' (or 'metadata') until the check is
 * over, never 'downloading' before it.
 */
export function waitForVerification(t: TorrentHandle, pollMs = 100): Promise<Verification> {
  return new Promise((resolve, reject) => {
    const finish = (fn: () => void) => {
      clearInterval(timer);
      t.off('done', onDone);
      t.off('error', onError);
      fn();
    };
    const onDone = () => finish(() => resolve('complete'));
    const onError = (err: unknown) => finish(() => reject(err instanceof Error ? err : new Error(errorMessage(err))));
    const check = () => {
      const s = t.stats();
      if (s.state === 'seeding') onDone();
      else if (s.state === 'error') onError(new Error(s.error ?? 'torrent failed'));
      else if ((s.state === 'downloading' || s.state === 'paused') && s.pieceCount !== undefined) {
        finish(() => resolve('incomplete'));
      }
    };
    t.on('done', onDone);
    t.on('error', onError);
    const timer = setInterval(check, pollMs);
    check();
  });
}

/** Resolves when every selected piece is verified ('done'); rejects on the torrent's 'error'. */
export function waitForDone(t: TorrentHandle, pollMs = 250): { promise: Promise<void>; cancel: () => void } {
  let cancel = () => {};
  const promise = new Promise<void>((resolve, reject) => {
    const finish = (fn: () => void) => {
      clearInterval(timer);
      t.off('done', onDone);
      t.off('error', onError);
      fn();
    };
    const onDone = () => finish(resolve);
    const onError = (err: unknown) => finish(() => reject(err instanceof Error ? err : new Error(errorMessage(err))));
    const check = () => {
      const s = t.stats();
      if (s.state === 'seeding' || (s.pieceCount !== undefined && s.progress >= 1 && s.state !== 'checking')) onDone();
      else if (s.state === 'error') onError(new Error(s.error ?? 'torrent failed'));
    };
    t.on('done', onDone);
    t.on('error', onError);
    const timer = setInterval(check, pollMs);
    cancel = () => finish(() => {});
    check();
  });
  return { promise, cancel };
}
