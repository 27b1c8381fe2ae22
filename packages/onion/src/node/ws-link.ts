// Cells over WebSocket (Node, the `ws` package): one binary message per cell. A message of any
// other size breaks the protocol and closes the link.
import WebSocket from 'ws';
import { CELL_SIZE } from '../protocol/cells.ts';
import { makeLink, type Link } from '../protocol/link.ts';
import { dialTcp } from './tcp-link.ts';

export function wsLink(ws: WebSocket, initiator: boolean, remote: string): Link {
  ws.binaryType = 'nodebuffer';
  const { link, deliver, ended } = makeLink({
    remote,
    initiator,
    send: (cell) => ws.send(cell),
    close: () => ws.terminate(),
    isClosed: () => ws.readyState !== WebSocket.OPEN,
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length !== CELL_SIZE) return ws.terminate();
    deliver(new Uint8Array(data));
  });
  ws.on('error', () => {});
  ws.on('close', ended);
  return link;
}

export function dialWs(url: string, signal: AbortSignal, localAddress?: string): Promise<Link> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: CELL_SIZE, ...(localAddress ? { localAddress } : {}) });
    const abort = () => {
      ws.terminate();
      reject(new Error(`connecting to ${url} aborted`));
    };
    signal.addEventListener('abort', abort, { once: true });
    ws.once('open', () => {
      signal.removeEventListener('abort', abort);
      resolve(wsLink(ws, true, url));
    });
    ws.once('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
  });
}

/** The Node dialer for both kinds of relay address. */
export async function dialRelay(address: string, signal: AbortSignal, localAddress?: string): Promise<Link> {
  if (address.startsWith('tcp:')) return dialTcp(address.slice(4), signal, localAddress);
  if (/^wss?:\/\//.test(address)) return dialWs(address, signal, localAddress);
  throw new Error(`unknown relay address ${address}`);
}
