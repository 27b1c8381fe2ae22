// For tests: a WebSocket proxy in front of a WebSocket tracker that records who connected (source
// address) and every message each sent on, so a test can say what the tracker learned.
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';

export interface Recorded {
  from: string;
  messages: Record<string, any>[];
}

export async function recordingWsProxy(t: { after(fn: () => unknown): void }, host: string, target: string): Promise<{ url: string; seen: Recorded[] }> {
  const seen: Recorded[] = [];
  const proxy = new WebSocketServer({ host, port: 0 });
  await once(proxy, 'listening');
  t.after(() => new Promise<void>((r) => proxy.close(() => r())));
  proxy.on('connection', (down, req) => {
    const entry: Recorded = { from: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''), messages: [] };
    seen.push(entry);
    const up = new WebSocket(target);
    const queue: string[] = [];
    up.on('open', () => queue.splice(0).forEach((m) => up.send(m)));
    down.on('message', (d: Buffer) => {
      entry.messages.push(JSON.parse(d.toString()));
      if (up.readyState === WebSocket.OPEN) up.send(d.toString());
      else queue.push(d.toString());
    });
    up.on('message', (d: Buffer) => down.readyState === WebSocket.OPEN && down.send(d.toString()));
    down.on('close', () => up.close());
    up.on('close', () => down.close());
    up.on('error', () => {});
    down.on('error', () => {});
  });
  return { url: `ws://${host}:${(proxy.address() as { port: number }).port}`, seen };
}

/** Every SDP of the offers a set of connections sent. */
export function offersOf(recorded: Recorded[]): string[] {
  return recorded.flatMap((s) => s.messages).flatMap((m) => (Array.isArray(m.offers) ? m.offers : [])).map((o: { offer: { sdp: string } }) => o.offer.sdp);
}
