// Cells over TCP (Node): the socket's byte stream cut into CELL_SIZE cells.
import net from 'node:net';
import { cellReader } from '../protocol/cells.ts';
import { makeLink, type Link } from '../protocol/link.ts';

export function socketLink(socket: net.Socket, initiator: boolean): Link {
  socket.setNoDelay(true);
  const remote = `tcp:${(socket.remoteAddress ?? '?').replace(/^::ffff:/, '')}:${socket.remotePort ?? 0}`;
  const { link, deliver, ended } = makeLink({
    remote,
    initiator,
    send: (cell) => socket.write(cell),
    close: () => socket.destroy(),
    isClosed: () => socket.destroyed,
  });
  socket.on('data', cellReader(deliver));
  socket.on('error', () => {});
  socket.on('close', ended);
  return link;
}

/** Dials "host:port" from `localAddress` (the node's --host) when given. */
export function dialTcp(hostPort: string, signal: AbortSignal, localAddress?: string): Promise<Link> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const abort = () => {
      socket.destroy();
      reject(new Error(`connecting to ${hostPort} aborted`));
    };
    signal.addEventListener('abort', abort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', abort);
      resolve(socketLink(socket, true));
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
  });
}
