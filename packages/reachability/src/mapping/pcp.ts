// PCP (RFC 6887) MAP requests: NAT-PMP's successor, on the same gateway port (5351). The port mapper
// library speaks only UPnP and NAT-PMP, and PCP is small: one 60-byte request, one answer. Only what
// a port mapping needs is here — MAP for IPv4 TCP/UDP, renew, delete — without options or the
// ANNOUNCE/PEER opcodes.
//
// Request:  version 2 | opcode MAP (1) | reserved (2) | lifetime (4) | client IP (16, IPv4-mapped)
//           nonce (12) | protocol (1) | reserved (3) | internal port (2) | suggested external port (2) |
//           suggested external IP (16; ::ffff:0.0.0.0 = any)
// Answer:   version | 0x80|opcode | reserved | result code | lifetime (4) | epoch (4) | reserved (12) |
//           the MAP fields again, with the assigned external port and IP.
// A gateway that speaks only NAT-PMP answers version 2 with its own version 0 and result 1
// ("unsupported version"): PcpError.unsupportedVersion tells the caller to fall back to NAT-PMP.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

export const PCP_PORT = 5351;
const MAP = 1;

const RESULTS: Record<number, string> = {
  1: 'UNSUPP_VERSION', 2: 'NOT_AUTHORIZED', 3: 'MALFORMED_REQUEST', 4: 'UNSUPP_OPCODE', 5: 'UNSUPP_OPTION',
  6: 'MALFORMED_OPTION', 7: 'NETWORK_FAILURE', 8: 'NO_RESOURCES', 9: 'UNSUPP_PROTOCOL', 10: 'USER_EX_QUOTA',
  11: 'CANNOT_PROVIDE_EXTERNAL', 12: 'ADDRESS_MISMATCH', 13: 'EXCESSIVE_REMOTE_PEERS',
};

export class PcpError extends Error {
  readonly code: number | null;
  /** The gateway answered, but not PCP (a NAT-PMP-only gateway): NAT-PMP may work. */
  readonly unsupportedVersion: boolean;
  /** Nothing answered at all. */
  readonly noAnswer: boolean;
  constructor(message: string, opts: { code?: number | null; unsupportedVersion?: boolean; noAnswer?: boolean } = {}) {
    super(message);
    this.code = opts.code ?? null;
    this.unsupportedVersion = opts.unsupportedVersion ?? false;
    this.noAnswer = opts.noAnswer ?? false;
  }
}

export interface PcpMapping {
  protocol: 'tcp' | 'udp';
  internalPort: number;
  externalPort: number;
  externalAddress: string;
  /** Seconds the gateway granted. */
  lifetime: number;
  /** Keep it to renew or delete this mapping (RFC 6887 §11.2). */
  nonce: Uint8Array;
}

export interface PcpMapRequest {
  gateway: string;
  /** This host's address on the gateway's side (the PCP client IP field must match the source). */
  localAddress: string;
  protocol: 'tcp' | 'udp';
  internalPort: number;
  /** The external port asked for (a suggestion); default: the internal port. 0 with lifetime 0 deletes. */
  externalPort?: number;
  /** Seconds; 0 deletes the mapping. */
  lifetime: number;
  /** The nonce of the mapping being renewed or deleted; new mappings get a fresh one. */
  nonce?: Uint8Array;
  /** Total time to wait for an answer (sent at 0, 250, 750, 1750 ms … within it). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function pcpMap(req: PcpMapRequest): Promise<PcpMapping> {
  const nonce = req.nonce ?? randomBytes(12);
  const packet = encodeMap(req, nonce);
  const socket = dgram.createSocket('udp4');
  const timeoutMs = req.timeoutMs ?? 4000;
  try {
    // Connected, so that an ICMP "port unreachable" (no server on the gateway) comes back as an error
    // at once instead of a silent timeout, and only the gateway's answers arrive.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, req.localAddress, () => socket.connect(PCP_PORT, req.gateway, () => { socket.off('error', reject); resolve(); }));
    });
    return await new Promise<PcpMapping>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = [];
      const finish = (err: Error | null, m?: PcpMapping) => {
        timers.forEach(clearTimeout);
        req.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err); else resolve(m!);
      };
      const onAbort = () => finish(new PcpError('aborted', { noAnswer: true }));
      req.signal?.addEventListener('abort', onAbort);
      // An ICMP port unreachable: the gateway runs no PCP (nor NAT-PMP) server.
      const refused = (err: Error | null | undefined) => {
        if ((err as NodeJS.ErrnoException | null | undefined)?.code === 'ECONNREFUSED') finish(new PcpError(`${req.gateway}:${PCP_PORT} refused (no PCP or NAT-PMP server)`, { noAnswer: true }));
      };
      socket.on('error', refused);
      socket.on('message', (msg) => {
        const answer = decodeAnswer(msg, nonce, req);
        if (answer) finish(answer instanceof Error ? answer : null, answer instanceof Error ? undefined : answer);
      });
      // RFC 6887 §8.1.1 retransmits from 3 s up; a LAN gateway answers in milliseconds, so shorter.
      for (let at = 0, step = 250; at < timeoutMs; at += step, step *= 2) {
        // A socket closed or disconnected meanwhile (the node stopping) makes send() throw, in a
        // timer, where it took the whole process down on SIGTERM: it ends this request instead.
        timers.push(setTimeout(() => {
          try {
            socket.send(packet, refused);
          } catch (err) {
            finish(new PcpError(`cannot send to ${req.gateway}:${PCP_PORT}: ${(err as Error).message}`, { noAnswer: true }));
          }
        }, at));
      }
      timers.push(setTimeout(() => finish(new PcpError(`no answer from ${req.gateway}:${PCP_PORT}`, { noAnswer: true })), timeoutMs));
    });
  } finally {
    socket.close();
  }
}

function encodeMap(req: PcpMapRequest, nonce: Uint8Array): Buffer {
  const b = Buffer.alloc(60);
  b[0] = 2;
  b[1] = MAP;
  b.writeUInt32BE(req.lifetime >>> 0, 4);
  mappedV4(req.localAddress).copy(b, 8);
  Buffer.from(nonce).copy(b, 24);
  b[36] = req.protocol === 'tcp' ? 6 : 17;
  b.writeUInt16BE(req.internalPort, 40);
  b.writeUInt16BE(req.externalPort ?? req.internalPort, 42);
  mappedV4('0.0.0.0').copy(b, 44);
  return b;
}

function decodeAnswer(msg: Buffer, nonce: Uint8Array, req: PcpMapRequest): PcpMapping | PcpError | null {
  if (msg.length >= 4 && msg[0] === 0) {
    // A NAT-PMP answer (version 0): result code 1 is "unsupported version".
    const code = msg.length >= 4 ? msg.readUInt16BE(2) : 0;
    return new PcpError('the gateway speaks NAT-PMP, not PCP', { code, unsupportedVersion: true });
  }
  if (msg.length < 24 || msg[0] !== 2 || msg[1] !== (0x80 | MAP)) return null;
  const code = msg[3]!;
  if (code === 1) return new PcpError('the gateway does not support PCP version 2', { code, unsupportedVersion: true });
  if (msg.length < 60 || !msg.subarray(24, 36).equals(Buffer.from(nonce))) return code === 0 ? null : new PcpError(`PCP ${RESULTS[code] ?? `result ${code}`}`, { code });
  if (code !== 0) return new PcpError(`PCP ${RESULTS[code] ?? `result ${code}`}`, { code });
  return {
    protocol: req.protocol,
    internalPort: msg.readUInt16BE(40),
    externalPort: msg.readUInt16BE(42),
    externalAddress: fromMapped(msg.subarray(44, 60)),
    lifetime: msg.readUInt32BE(4),
    nonce,
  };
}

function mappedV4(ip: string): Buffer {
  const b = Buffer.alloc(16);
  b[10] = 0xff;
  b[11] = 0xff;
  ip.split('.').forEach((x, i) => { b[12 + i] = Number(x); });
  return b;
}

function fromMapped(b: Buffer): string {
  const v4 = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (v4) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts.join(':');
}
