// Cells over the browser's WebSocket: one binary message per cell; anything else closes the link.
// A page cannot open raw TCP, so it reaches relays by their ws:// (or wss://) address only.
import { CELL_SIZE } from '../protocol/cells.ts';
import { makeLink, type Link } from '../protocol/link.ts';

export function dialRelayBrowser(address: string, signal: AbortSignal): Promise<Link> {
  if (!/^wss?:\/\//.test(address)) return Promise.reject(new Error(`a browser reaches relays over WebSocket only, not ${address}`));
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address);
    ws.binaryType = 'arraybuffer';
    const { link, deliver, ended } = makeLink({
      remote: address,
      initiator: true,
      send: (cell) => ws.send(cell),
      close: () => ws.close(),
      isClosed: () => ws.readyState !== WebSocket.OPEN,
    });
    const abort = () => {
      ws.close();
      reject(new Error(`connecting to ${address} aborted`));
    };
    signal.addEventListener('abort', abort, { once: true });
    ws.addEventListener('open', () => {
      signal.removeEventListener('abort', abort);
      resolve(link);
    });
    ws.addEventListener('message', (e: MessageEvent) => {
      const data = e.data;
      if (!(data instanceof ArrayBuffer) || data.byteLength !== CELL_SIZE) return ws.close();
      deliver(new Uint8Array(data));
    });
    ws.addEventListener('error', () => reject(new Error(`cannot reach relay ${address}`)));
    ws.addEventListener('close', () => ended());
  });
}
