// A node relay's signalling endpoint for tab relays (src/signal.ts): tabs register under their did
// by signing a fresh challenge; clients send offers addressed to a did; the node passes sealed boxes
// between them and reads none; a client that applied an answer says `ready`, which goes to the tab
// that answered. Limits keep it cheap: a bounded number of tabs, offers waiting (and answered
// offers awaiting `ready`) per client connection, and message sizes.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_SIGNAL_MESSAGE, registrationValid, type SignalMessage } from '../relay/signal.ts';

export const MAX_TABS = 1024;
/** Offers one connection may have waiting for answers. */
const MAX_PENDING = 16;
const OFFER_TIMEOUT_MS = 30_000;
/** How long an answered offer may be followed by `ready` (a client sends it as soon as it has
 *  applied the answer; the tab adds candidates anyway after a couple of seconds). */
const READY_WINDOW_MS = 10_000;

interface Conn {
  n: number;
  ws: WebSocket;
  nonce: string;
  /** The did this connection registered as (a tab relay), if it did. */
  did?: string;
  /** Offers this connection sent, by id, awaiting an answer. */
  pending: Map<number, ReturnType<typeof setTimeout>>;
  /** Offers of this connection that were answered, by id: the tab that answered, until `ready`. */
  answered: Map<number, { did: string; timer: ReturnType<typeof setTimeout> }>;
}

export interface SignalServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly tabs: number;
  close(): void;
}

export function signalServer(): SignalServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_SIGNAL_MESSAGE });
  const tabs = new Map<string, Conn>();
  const conns = new Map<number, Conn>();
  let counter = 0;
  const send = (c: Conn, m: SignalMessage) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(m));
  };

  const onMessage = (c: Conn, m: Record<string, unknown>) => {
    switch (m.type) {
      case 'register': {
        if (c.did) return send(c, { type: 'error', error: 'already registered' });
        if (!registrationValid(m, c.nonce)) return send(c, { type: 'error', error: 'registration does not verify' });
        const did = m.id as string;
        const old = tabs.get(did);
        if (!old && tabs.size >= MAX_TABS) return send(c, { type: 'error', error: 'too many tab relays here' });
        // The newest proof wins: a tab that reconnects replaces its stale connection.
        if (old) old.ws.close(1000, 'registered again elsewhere');
        c.did = did;
        tabs.set(did, c);
        return send(c, { type: 'registered' });
      }
      case 'offer': {
        const id = m.id;
        if (typeof id !== 'number' || !Number.isInteger(id) || typeof m.box !== 'string' || typeof m.to !== 'string') {
          return send(c, { type: 'error', error: 'bad offer' });
        }
        if (c.pending.size >= MAX_PENDING || c.pending.has(id)) return send(c, { type: 'error', id, error: 'too many offers waiting' });
        const tab = tabs.get(m.to);
        if (!tab) return send(c, { type: 'error', id, error: 'no such tab relay here' });
        c.pending.set(
          id,
          setTimeout(() => {
            c.pending.delete(id);
            send(c, { type: 'error', id, error: 'the tab relay did not answer' });
          }, OFFER_TIMEOUT_MS),
        );
        return send(tab, { type: 'offer', from: c.n, id, box: m.box });
      }
      case 'answer':
      case 'error': {
        // Only a registered tab answers, and only offers still waiting.
        const to = typeof m.to === 'number' ? conns.get(m.to) : undefined;
        const id = m.id as number;
        if (!c.did || !to || !to.pending.has(id)) return;
        clearTimeout(to.pending.get(id));
        to.pending.delete(id);
        if (m.type === 'answer' && typeof m.box === 'string') {
          remember(to, id, c.did);
          return send(to, { type: 'answer', id, box: m.box });
        }
        return send(to, { type: 'error', id, error: typeof m.error === 'string' ? m.error.slice(0, 200) : 'refused' });
      }
      case 'ready': {
        // Only for an offer of this connection that the addressed tab answered, once.
        const id = m.id;
        if (typeof id !== 'number' || !Number.isInteger(id) || typeof m.to !== 'string') return send(c, { type: 'error', error: 'bad ready' });
        const a = c.answered.get(id);
        if (!a || a.did !== m.to) return send(c, { type: 'error', id, error: 'no answered offer with this id and tab' });
        clearTimeout(a.timer);
        c.answered.delete(id);
        // The tab may have reconnected since it answered: its current connection gets it.
        const tab = tabs.get(a.did);
        if (!tab) return send(c, { type: 'error', id, error: 'no such tab relay here' });
        return send(tab, { type: 'ready', from: c.n, id });
      }
      default:
        send(c, { type: 'error', error: 'unknown message' });
    }
  };

  const remember = (c: Conn, id: number, did: string) => {
    const old = c.answered.get(id);
    if (old) clearTimeout(old.timer);
    c.answered.delete(id);
    // Bounded like the offers waiting: the oldest answered offer is forgotten first.
    if (c.answered.size >= MAX_PENDING) {
      const [oldest, o] = c.answered.entries().next().value!;
      clearTimeout(o.timer);
      c.answered.delete(oldest);
    }
    c.answered.set(id, { did, timer: setTimeout(() => c.answered.delete(id), READY_WINDOW_MS) });
  };

  wss.on('connection', (ws: WebSocket) => {
    const c: Conn = { n: ++counter, ws, nonce: randomBytes(16).toString('base64url'), pending: new Map(), answered: new Map() };
    conns.set(c.n, c);
    ws.on('message', (data, isBinary) => {
      let m: unknown;
      try {
        m = isBinary ? undefined : JSON.parse(String(data));
      } catch {
        m = undefined;
      }
      if (!m || typeof m !== 'object') return ws.close(1003, 'JSON messages only');
      onMessage(c, m as Record<string, unknown>);
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      conns.delete(c.n);
      for (const t of c.pending.values()) clearTimeout(t);
      for (const a of c.answered.values()) clearTimeout(a.timer);
      if (c.did && tabs.get(c.did) === c) tabs.delete(c.did);
    });
    send(c, { type: 'challenge', nonce: c.nonce });
  });

  return {
    handleUpgrade: (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
    get tabs() {
      return tabs.size;
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
