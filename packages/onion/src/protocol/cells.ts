// Fixed-size cells, the only thing that travels on relay links. Every cell is CELL_SIZE bytes:
// circuit id (u32), command (u8), payload. Relay cells carry an onion-encrypted payload whose
// innermost layer is an AEAD seal of RELAY_PLAIN bytes: relay command, stream id, length, data,
// zero padding. docs/onion.md describes the layout byte by byte.

export const CELL_SIZE = 512;
export const CELL_HEADER = 5;
export const PAYLOAD_SIZE = CELL_SIZE - CELL_HEADER; // 507
export const TAG_SIZE = 16;
/** A relay cell's sealed payload: the plaintext is this long, the seal adds TAG_SIZE. */
export const RELAY_PLAIN = PAYLOAD_SIZE - TAG_SIZE; // 491
export const RELAY_HEADER = 5;
/** Most data one relay cell carries. */
export const RELAY_DATA_MAX = RELAY_PLAIN - RELAY_HEADER; // 486

export const Cmd = {
  PADDING: 0,
  CREATE: 1,
  CREATED: 2,
  RELAY: 3,
  DESTROY: 4,
} as const;
export type CellCommand = (typeof Cmd)[keyof typeof Cmd];

export const RelayCmd = {
  EXTEND: 1,
  EXTENDED: 2,
  EXTEND_FAILED: 3,
  BEGIN: 4,
  DATA: 5,
  END: 6,
  /** Long-range padding: the hop it is sealed to drops it. */
  DROP: 7,
  /** End of one message of a tunnel stream (the stream stays open; END closes it). */
  MSG_END: 8,
} as const;
export type RelayCommand = (typeof RelayCmd)[keyof typeof RelayCmd];

/** Why a circuit was torn down (DESTROY's first payload byte). */
export const DestroyReason = {
  NONE: 0,
  PROTOCOL: 1,
  HANDSHAKE: 2,
  NEXT_HOP_GONE: 3,
  CLOSED: 4,
  RESOURCES: 5,
} as const;

export class CellError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CellError';
  }
}

export interface Cell {
  circId: number;
  cmd: number;
  payload: Uint8Array;
}

/** A cell with the payload padded with random bytes (so a short CREATE looks like any other cell). */
export function encodeCell(circId: number, cmd: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (payload.length > PAYLOAD_SIZE) throw new CellError(`cell payload of ${payload.length} bytes (max ${PAYLOAD_SIZE})`);
  const cell = new Uint8Array(CELL_SIZE);
  if (payload.length < PAYLOAD_SIZE) crypto.getRandomValues(cell.subarray(CELL_HEADER + payload.length));
  new DataView(cell.buffer).setUint32(0, circId >>> 0);
  cell[4] = cmd;
  cell.set(payload, CELL_HEADER);
  return cell;
}

export function decodeCell(cell: Uint8Array): Cell {
  if (cell.length !== CELL_SIZE) throw new CellError(`cell of ${cell.length} bytes (every cell is ${CELL_SIZE})`);
  const view = new DataView(cell.buffer, cell.byteOffset, cell.byteLength);
  return { circId: view.getUint32(0), cmd: cell[4]!, payload: cell.subarray(CELL_HEADER) };
}

export interface RelayMessage {
  cmd: number;
  streamId: number;
  data: Uint8Array;
}

/** RELAY_PLAIN bytes: cmd u8, stream u16, length u16, data, zeros. */
export function encodeRelay(m: RelayMessage): Uint8Array {
  if (m.data.length > RELAY_DATA_MAX) throw new CellError(`relay data of ${m.data.length} bytes (max ${RELAY_DATA_MAX})`);
  const out = new Uint8Array(RELAY_PLAIN);
  const view = new DataView(out.buffer);
  out[0] = m.cmd;
  view.setUint16(1, m.streamId);
  view.setUint16(3, m.data.length);
  out.set(m.data, RELAY_HEADER);
  return out;
}

export function decodeRelay(plain: Uint8Array): RelayMessage {
  if (plain.length !== RELAY_PLAIN) throw new CellError(`relay plaintext of ${plain.length} bytes`);
  const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const length = view.getUint16(3);
  if (length > RELAY_DATA_MAX) throw new CellError(`relay length ${length} beyond the cell`);
  return { cmd: plain[0]!, streamId: view.getUint16(1), data: plain.slice(RELAY_HEADER, RELAY_HEADER + length) };
}

/**
 * Cuts a byte stream (TCP) into cells. Returns a feeder; a stream that ends mid-cell simply never
 * delivers the partial cell.
 */
export function cellReader(onCell: (cell: Uint8Array) => void): (chunk: Uint8Array) => void {
  let partial = new Uint8Array(0);
  return (chunk) => {
    let buf = chunk;
    if (partial.length > 0) {
      const joined = new Uint8Array(partial.length + chunk.length);
      joined.set(partial);
      joined.set(chunk, partial.length);
      buf = joined;
    }
    let at = 0;
    while (buf.length - at >= CELL_SIZE) {
      onCell(buf.slice(at, at + CELL_SIZE));
      at += CELL_SIZE;
    }
    partial = buf.slice(at);
  };
}
