// Young collections on demand, for code that makes short-lived off-heap Buffers at transfer speed:
// a WebRTC data channel's messages (node-datachannel gives each a fresh ArrayBuffer), a private
// share's decrypted chunks (node:crypto gives each a fresh Buffer). V8 counts off-heap bytes, and
// past 64 MB more since the last full collection it starts one, of the whole heap; a young Buffer's
// bytes are only given back by a young-generation collection, which the tiny JS objects in front
// of them rarely cause. Counting the bytes and asking for a young collection every few MiB (a few
// ms with the young generation a transfer keeps) returns them before that limit. Measured on a
// private share's recipient: the V8 worker that marks the heap 35% → 20% of its CPU.
import v8 from 'node:v8';
import vm from 'node:vm';

export type GcFunction = (opts?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

let gcFunction: GcFunction | null | undefined;

/** V8's gc(), reached without --expose-gc on the command line (and without a global `gc`):
 *  setting the flag at run time exposes it in contexts made afterwards. null where it cannot be had. */
export function v8Collector(): GcFunction | null {
  if (gcFunction === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const fn = vm.runInNewContext('gc') as unknown;
      gcFunction = typeof fn === 'function' ? (fn as GcFunction) : null;
    } catch {
      gcFunction = null;
    }
  }
  return gcFunction;
}

/** Returns a counter of bytes made garbage; every `everyBytes` it asks for a young collection. A
 *  no-op where gc() cannot be had. */
export function youngBufferCollector(everyBytes = 16 * 1024 * 1024): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    v8Collector()?.({ type: 'minor', execution: 'sync' });
  };
}
