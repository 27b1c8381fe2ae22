// TCP transport: net.Socket behind the Connection seam, plus the listener and dialer.
import net from 'node:net';
import { MAX_REDELIVER, type Connection, type Dialer } from '../platform.ts';
import { addressKey, type PeerAddress } from '../types.ts';

const DIAL_TIMEOUT_MS = 10_000;
const READ_BUFFER = 256 * 1024;
/** Bytes a socket queues before write() says to wait (Node's default is 64 KiB). An uploader sends
 *  up to 64 blocks (1 MiB) per corked batch; stopped at 64 KiB, each batch was four blocks, one
 *  writev, one 'drain' and one turn of its loop per 64 KiB, and with TCP_NODELAY each writev ended
 *  in a short segment of its own. */
const WRITE_HIGH_WATER = 1024 * 1024;

type DataFn = (chunk: Uint8Array, borrowed: boolean, redeliver?: boolean) => number | void;
interface Reader {
  fn: DataFn | undefined;
  flush?: (fn: DataFn) => void;
}

/** `reader` is set when the socket was opened with `onread` (a reused buffer, no 'data' events). */
export function socketConnection(socket: net.Socket, reader?: Reader): Connection {
  socket.setNoDelay(true);
  const remote = addressKey({ host: (socket.remoteAddress ?? '?').replace(/^::ffff:/, ''), port: socket.remotePort ?? 0 });
  let closed = false;
  return {
    remote,
    transport: 'tcp',
    write: (data) => !closed && socket.write(data),
    cork: () => socket.cork(),
    uncork: () => socket.uncork(),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => {
      closed = true;
      // destroy() with a write still queued can leave the remote end open; a reset cannot.
      if (!socket.destroyed) socket.resetAndDestroy();
    },
    onData: (fn) => {
      if (reader) {
        reader.flush?.(fn);
        reader.fn = fn;
      }
      else socket.on('data', (chunk: Buffer) => fn(chunk, false));
    },
    onDrain: (fn) => socket.on('drain', fn),
    // writableLength counts bytes queued in the stream and in libuv's pending write requests.
    drained: () => socket.writableLength === 0,
    unsent: () => socket.writableLength,
    onClose: (fn) => {
      let err: Error | undefined;
      socket.on('error', (e) => (err = e));
      socket.on('close', () => {
        closed = true;
        fn(err);
      });
    },
  };
}

/** Dials from `localAddress` when given (the session's concrete --host): peers see that address. */
export function tcpDialerFrom(localAddress?: string): Dialer {
  return localAddress ? { dial: (addr, signal) => dial(addr, signal, localAddress) } : tcpDialer;
}

export const tcpDialer: Dialer = {
  dial: (addr, signal) => dial(addr, signal, undefined),
};

function dial(addr: PeerAddress, signal: AbortSignal, localAddress: string | undefined): Promise<Connection> {
  return new Promise((resolve, reject) => {
    // Reads land in one reused buffer: a fast download would otherwise allocate (and collect)
    // a fresh 64 KiB buffer per read. A message cut by the end of a read is handed back by the
    // wire and stays where it is; the next read lands right behind it (onread's buffer can be a
    // function, asked for the next read's memory after each callback).
    const reader: Reader = { fn: undefined };
    const ring = Buffer.allocUnsafe(READ_BUFFER);
    let start = 0; // first byte the consumer handed back
    let end = 0; // end of the bytes read
    const socket = net.connect({
      host: addr.host,
      port: addr.port,
      ...(localAddress ? { localAddress } : {}),
      writableHighWaterMark: WRITE_HIGH_WATER,
      onread: {
        buffer: () => ring.subarray(end),
        callback: (n: number) => {
          end += n;
          if (!reader.fn) {
            early.push(ring.slice(start, end)); // nobody listening yet: keep a copy
            start = end = 0;
            return;
          }
          const kept = Math.min(Number(reader.fn(ring.subarray(start, end), true, true) ?? 0), end - start);
          start = end - kept;
          if (start === end) start = end = 0;
          else if (ring.length - end < MAX_REDELIVER) {
            ring.copyWithin(0, start, end);
            end -= start;
            start = 0;
          }
        },
      },
    } as unknown as net.NetConnectOpts);
    const early: Uint8Array[] = [];
    reader.flush = (fn) => {
      for (const c of early.splice(0)) fn(c, false);
    };
    const timer = setTimeout(() => fail(new Error(`connect to ${addressKey(addr)} timed out`)), DIAL_TIMEOUT_MS);
    const onAbort = () => fail(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', fail);
    };
    function fail(err: Error) {
      done();
      socket.destroy();
      reject(err);
    }
    socket.once('error', fail);
    socket.once('connect', () => {
      done();
      resolve(socketConnection(socket, reader));
    });
  });
}

export async function listenTcp(port: number, host: string, onConnection: (c: Connection) => void): Promise<net.Server> {
  // highWaterMark sets both sides here; the reading side's only matters while a connection is paused.
  const server = net.createServer({ noDelay: true, highWaterMark: WRITE_HIGH_WATER }, (socket) => onConnection(socketConnection(socket)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  server.on('error', () => {});
  return server;
}
