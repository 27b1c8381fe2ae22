// socket.io's parser with a nesting limit. socket.io walks every payload recursively (binary
// detection, our handlers' JSON.stringify), so a frame of a few KB nested thousands deep would
// overflow the stack inside a handler. A linear scan of the frame's text refuses it before
// JSON.parse; the throw makes socket.io close that one connection.
import { Decoder, Encoder } from 'socket.io-parser';

/** Deepest nesting of arrays and objects a socket.io payload may have; ours need < 10. */
export const MAX_PAYLOAD_DEPTH = 32;

/** How deep the JSON text nests, counting brackets outside strings; stops early past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

class DepthLimitedDecoder extends Decoder {
  override add(chunk: unknown): void {
    if (typeof chunk === 'string' && jsonDepth(chunk, MAX_PAYLOAD_DEPTH) > MAX_PAYLOAD_DEPTH) {
      throw new Error(`socket.io payload nested deeper than ${MAX_PAYLOAD_DEPTH}`);
    }
    super.add(chunk);
  }
}

/** For `new Server(http, { parser: depthLimitedParser })`. */
export const depthLimitedParser = { Encoder, Decoder: DepthLimitedDecoder };
