// A WebSocket (WebTorrent-protocol) tracker for tests: @cascade/tracker with `ws: true` on 127.0.0.1.
import { startTracker } from '@cascade/tracker';

export interface WsTracker {
  url: string;
  close(): Promise<void>;
}

/** `interval` (seconds) defaults to 2 so tests need not wait; pass 1800 for a real tracker's
 *  default (a WebSocket announce interval of 120 s). */
export async function startWsTracker(opts: { interval?: number } = {}): Promise<WsTracker> {
  const tr = await startTracker({ host: '127.0.0.1', ws: true, interval: opts.interval ?? 2, rateLimit: false });
  if (!tr.wsAnnounceUrl) {
    await tr.close();
    throw new Error('@cascade/tracker started without a WebSocket announce URL');
  }
  return { url: tr.wsAnnounceUrl, close: () => tr.close() };
}
