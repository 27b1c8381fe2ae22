// Requests and answers on a circuit: a JSON document cut into relay cells. The first cell is BEGIN,
// the rest DATA, and END (empty) says the document is complete. Both ends cap what they collect.
import { RELAY_DATA_MAX, RelayCmd, type RelayMessage } from './cells.ts';
import { fromUtf8, utf8 } from '@cascade/identity';

export const MAX_REQUEST_BYTES = 16 * 1024;
export const MAX_ANSWER_BYTES = 256 * 1024;

/** A document as cells: BEGIN (or DATA) and DATA…, then END (a request or its answer) or MSG_END
 *  (one message of a tunnel, which stays open). */
export function documentCells(streamId: number, doc: unknown, first: 'BEGIN' | 'DATA', last: 'END' | 'MSG_END' = 'END'): RelayMessage[] {
  const bytes = utf8(JSON.stringify(doc));
  const out: RelayMessage[] = [];
  for (let at = 0; at < bytes.length || out.length === 0; at += RELAY_DATA_MAX) {
    const cmd = out.length === 0 && first === 'BEGIN' ? RelayCmd.BEGIN : RelayCmd.DATA;
    out.push({ cmd, streamId, data: bytes.subarray(at, at + RELAY_DATA_MAX) });
  }
  out.push({ cmd: last === 'END' ? RelayCmd.END : RelayCmd.MSG_END, streamId, data: new Uint8Array(0) });
  return out;
}

/** Collects one document's cells; throws when it grows past `max`. */
export class DocumentBuffer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  add(data: Uint8Array): void {
    this.size += data.length;
    if (this.size > this.max) throw new Error(`document over ${this.max} bytes`);
    this.parts.push(data);
  }

  json(): unknown {
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    return JSON.parse(fromUtf8(all));
  }
}
