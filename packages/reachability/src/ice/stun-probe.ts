// Asks a STUN server which address and port our UDP packets come from (a binding request, RFC 5389),
// with the retransmissions RFC 5389 §7.2.1 describes, shortened: this runs at start and on network
// changes, and a silent server should cost seconds, not 39.5 s.
import dgram from 'node:dgram';
import { bindingRequest, decodeStun, isStunMessage, newTransactionId, readBindingAnswer, type BindingAnswer } from './stun-message.ts';

export interface StunServer {
  host: string;
  port: number;
}

export interface ProbeOptions {
  /** Default: 3 s in all. */
  timeoutMs?: number;
  /** First retransmission after this; doubles each time. Default 250 ms. */
  rtoMs?: number;
}

/** Parses `stun:host:port` (port 3478 when absent) or `host:port`; IPv6 in brackets. */
export function parseStunUrl(url: string): StunServer {
  const m = /^(?:stuns?:)?(\[[0-9a-fA-F:.]+\]|[^:[\]?]+)(?::(\d+))?(?:\?.*)?$/.exec(url.trim());
  if (!m) throw new Error(`not a STUN address: ${url}`);
  const port = m[2] === undefined ? 3478 : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new Error(`bad port in ${url}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** One binding request from `socket` (so several probes can share one local port, as NAT typing needs). */
export function stunProbe(socket: dgram.Socket, server: StunServer, opts: ProbeOptions = {}): Promise<BindingAnswer> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  let rto = opts.rtoMs ?? 250;
  const id = newTransactionId();
  const request = bindingRequest(id);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (err: Error | undefined, answer?: BindingAnswer) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      socket.off('message', onMessage);
      if (err) reject(err);
      else resolve(answer!);
    };
    const onMessage = (msg: Buffer) => {
      if (!isStunMessage(msg)) return;
      try {
        const m = decodeStun(msg);
        if (!sameBytes(m.transactionId, id)) return;
        done(undefined, readBindingAnswer(m));
      } catch (err) {
        done(err as Error);
      }
    };
    const send = () => {
      socket.send(request, server.port, server.host, (err) => err && done(new Error(`STUN ${server.host}:${server.port}: ${err.message}`)));
      timer = setTimeout(send, rto);
      rto *= 2;
    };
    const deadline = setTimeout(() => done(new Error(`no STUN answer from ${server.host}:${server.port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('message', onMessage);
    send();
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
