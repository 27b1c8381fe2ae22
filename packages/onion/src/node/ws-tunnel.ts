// The Node exit's WebSocket tracker tunnel: one WebSocket to the tracker per tunnel, from the
// relay's address. Client → tracker: announces and scrapes only, at most 20 a second on average;
// tracker → client: JSON objects up to 64 KiB. Either side closing closes the other.
import WebSocket from 'ws';
import { trackerMessageProblem, tunnelProblem, type WsTrackerTunnelRequest } from '../exit/exit.ts';
import type { TunnelEnd, TunnelHandler } from '../exit/exit-streams.ts';

const MAX_FROM_TRACKER = 64 * 1024;
/** Tunnels one exit holds open at once (each is a WebSocket of its own). */
const MAX_TUNNELS = 256;
const RATE_PER_S = 20;
const BURST = 40;

export function wsTrackerTunnels(o: { localAddress?: string; checkUrl?: (url: string) => Promise<void>; max?: number } = {}): TunnelHandler {
  let open = 0;
  return (request, toClient): TunnelEnd => {
    const problem = tunnelProblem(request);
    if (problem) throw new Error(problem);
    if (open >= (o.max ?? MAX_TUNNELS)) throw new Error('this exit has no room for another tunnel');
    open++;
    const { url } = request as WsTrackerTunnelRequest;
    let ws: WebSocket | undefined;
    let closed = false;
    const pending: string[] = [];
    let tokens = BURST;
    let at = Date.now();
    const close = () => {
      if (closed) return;
      closed = true;
      open--;
      ws?.terminate();
      toClient.close();
    };
    const connect = () => {
      ws = new WebSocket(url, { maxPayload: MAX_FROM_TRACKER, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
      ws.on('open', () => {
        for (const text of pending.splice(0)) ws!.send(text);
      });
      ws.on('message', (data: Buffer) => {
        let doc: unknown;
        try {
          doc = JSON.parse(data.toString('utf8'));
        } catch {
          return;
        }
        if (doc && typeof doc === 'object' && !Array.isArray(doc)) toClient.send(doc);
      });
      ws.on('error', () => {});
      ws.on('close', close);
    };
    (o.checkUrl ? o.checkUrl(url) : Promise.resolve()).then(
      () => {
        if (!closed) connect();
      },
      () => close(),
    );
    return {
      send(doc) {
        if (closed || trackerMessageProblem(doc)) return;
        const now = Date.now();
        tokens = Math.min(BURST, tokens + ((now - at) / 1000) * RATE_PER_S);
        at = now;
        if (tokens < 1) return; // over the rate: dropped, as a tracker's rate limit would
        tokens--;
        const text = JSON.stringify(doc);
        if (ws?.readyState === WebSocket.OPEN) ws.send(text);
        else if (pending.length < 20) pending.push(text);
      },
      close,
    };
  };
}
