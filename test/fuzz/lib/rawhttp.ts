// A raw HTTP/1.1 exchange over TCP: whatever bytes the fuzzer made go out unchanged (fetch would
// refuse or fix most of them) and the answer is read until it is complete or the server closes.
// A request cut short by a mutation leaves the server waiting for the rest, which is right, so
// after `halfCloseMs` without an answer the write side is closed; a server that then still
// neither answers nor closes within `ms` has hung.

import net from 'node:net';

export interface RawResponse {
  data: Buffer;
  timedOut: boolean;
  /** The status code of the first response line, if there is one. */
  status: number | undefined;
}

/** True once `data` holds a whole response (by content-length or the last chunk). */
function complete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = data.subarray(0, end).toString('latin1');
  if (/^HTTP\/1\.[01] (1\d\d|204|304)/.test(head) && !/^HTTP\/1\.[01] 101/.test(head)) return true;
  const len = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (len) return data.length - end - 4 >= Number(len[1]);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return data.subarray(-5).toString('latin1') === '0\r\n\r\n';
  return false;
}

export function rawHttp(port: number, bytes: Uint8Array, opts: { ms?: number; halfCloseMs?: number } = {}): Promise<RawResponse> {
  const { ms = 5000, halfCloseMs = 0 } = opts;
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(halfClose);
      s.destroy();
      const data = Buffer.concat(chunks);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data.subarray(0, 16).toString('latin1'));
      resolve({ data, timedOut, status: m ? Number(m[1]) : undefined });
    };
    const timer = setTimeout(() => done(true), ms);
    const halfClose = setTimeout(() => s.end(), halfCloseMs);
    s.on('data', (d) => {
      chunks.push(d);
      if (complete(Buffer.concat(chunks))) done(false);
    });
    s.on('error', () => {});
    s.on('close', () => done(false));
    s.write(bytes);
  });
}

/** The body after the header block (not de-chunked: good enough to look for a JSON error). */
export function bodyOf(data: Buffer): Buffer {
  const i = data.indexOf('\r\n\r\n');
  return i < 0 ? Buffer.alloc(0) : data.subarray(i + 4);
}
