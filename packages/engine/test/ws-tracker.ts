// A WebSocket (WebTorrent-protocol) tracker for tests: @cascade/tracker with `ws: true`; should that
// not start (the package is being worked on), a tiny in-test relay with the same wire format:
// announces with offers are forwarded one offer per other peer of the swarm, answers to `to_peer_id`.
// CASCADE_WS_TRACKER=relay picks the relay outright.
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';

export interface WsTracker {
  url: string;
  kind: '@cascade/tracker' | 'test relay';
  close(): Promise<void>;
}

export async function startWsTracker(): Promise<WsTracker> {
  if (process.env.CASCADE_WS_TRACKER === 'relay') return startRelay();
  try {
    const { startTracker } = await import('../../tracker/index.ts');
    const tr = await withTimeout(startTracker({ host: '127.0.0.1', ws: true, interval: 2, rateLimit: false }), 5000);
    if (tr.wsAnnounceUrl) return { url: tr.wsAnnounceUrl, kind: '@cascade/tracker', close: () => tr.close() };
    await tr.close();
  } catch {
    // fall through to the relay
  }
  return startRelay();
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    p.then((v) => (clearTimeout(timer), resolve(v)), (e) => (clearTimeout(timer), reject(e)));
  });
}

async function startRelay(): Promise<WsTracker> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  // info_hash → peer_id → socket, and whether that peer is a seed.
  const swarms = new Map<string, Map<string, { ws: WebSocket; seed: boolean }>>();
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      let m: Record<string, any>;
      try {
        m = JSON.parse(String(data));
      } catch {
        return;
      }
      if (m.action !== 'announce' || typeof m.info_hash !== 'string' || typeof m.peer_id !== 'string') return;
      const swarm = swarms.get(m.info_hash) ?? new Map();
      swarms.set(m.info_hash, swarm);
      if (m.answer) {
        swarm.get(m.to_peer_id)?.ws.send(JSON.stringify({ action: 'announce', answer: m.answer, offer_id: m.offer_id, peer_id: m.peer_id, info_hash: m.info_hash }));
        return;
      }
      if (m.event === 'stopped') {
        swarm.delete(m.peer_id);
        return;
      }
      const seed = m.left === 0;
      swarm.set(m.peer_id, { ws, seed });
      let complete = 0;
      for (const p of swarm.values()) if (p.seed) complete++;
      ws.send(JSON.stringify({ action: 'announce', interval: 2, info_hash: m.info_hash, complete, incomplete: swarm.size - complete }));
      const offers: any[] = Array.isArray(m.offers) ? m.offers : [];
      const others = [...swarm].filter(([id, p]) => id !== m.peer_id && !(seed && p.seed));
      others.slice(0, offers.length).forEach(([, p], i) => {
        p.ws.send(JSON.stringify({ action: 'announce', offer: offers[i].offer, offer_id: offers[i].offer_id, peer_id: m.peer_id, info_hash: m.info_hash }));
      });
    });
    ws.on('close', () => {
      for (const swarm of swarms.values()) for (const [id, p] of swarm) if (p.ws === ws) swarm.delete(id);
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/announce`,
    kind: 'test relay',
    close: () => new Promise<void>((r) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => r());
    }),
  };
}
