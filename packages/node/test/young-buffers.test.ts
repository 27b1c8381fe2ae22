// youngBufferCollector (core/memory-reducer.ts): short-lived off-heap Buffers made at transfer speed
// (a private share's decrypted chunks) are given back by young collections, before V8 counts them
// towards a full collection of the whole heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { youngBufferCollector } from '../src/core/memory-reducer.ts';

const CHUNK = 64 * 1024;
const TOTAL = 192 * 1024 * 1024;

/** Decrypts TOTAL bytes chunk by chunk as a private share's storage does (a fresh Buffer each);
 *  returns the full collections V8 ran meanwhile. */
async function fullCollectionsWhileDecrypting(count?: (bytes: number) => void): Promise<number> {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([c.update(randomBytes(CHUNK)), c.final()]);
  const tag = c.getAuthTag();
  const slot = Buffer.alloc(CHUNK);
  let majors = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (((e as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  });
  obs.observe({ entryTypes: ['gc'] });
  for (let done = 0; done < TOTAL; done += CHUNK) {
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    const plain = d.update(sealed);
    d.final();
    slot.set(plain); // copied on, as into the aligned memory the disk writes from
    count?.(plain.length);
    if ((done / CHUNK) % 32 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50)); // the observer hears of the last ones
  obs.disconnect();
  return majors;
}

test('decrypted chunks counted by the collector cause no full collection; uncounted, they cause several', async () => {
  // A heap with something in it, as a node's: a full collection has work to do.
  const live = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `row ${i}` }));
  const withCollector = await fullCollectionsWhileDecrypting(youngBufferCollector());
  const without = await fullCollectionsWhileDecrypting();
  assert.ok(without >= 2, `192 MiB of uncounted chunks caused ${without} full collection(s): the case this guards against did not occur`);
  assert.ok(withCollector <= 1, `with the collector, ${withCollector} full collections (without it: ${without})`);
  assert.equal(live.length, 200_000);
});
