// The node WebRTC env's collector (node/webrtc.ts): node-datachannel hands every data-channel
// message over as a fresh off-heap buffer (256 KiB from our peers), garbage once the wire has copied
// its blocks out. Asking for a young collection every 16 MiB of them left a downloader running 4–22
// full collections in 256 MiB (bench/nat/README.md, branch rtc5); every 4 MiB, one. A synthetic
// loop of such buffers does not reproduce those full collections, so what V8 does is measured
// there, and this holds the cadence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { nodeWebRtcEnv } from '../src/node/webrtc.ts';

test('the WebRTC env asks for a young collection at least every 4 MiB of messages received', async () => {
  const received = nodeWebRtcEnv().received!;
  let minors = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (((e as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
  });
  obs.observe({ entryTypes: ['gc'] });
  // 64 MiB counted, nothing allocated: only the collections asked for happen.
  for (let i = 0; i < 256; i++) received(256 * 1024);
  await new Promise((r) => setTimeout(r, 50)); // the observer hears of the last ones
  obs.disconnect();
  assert.ok(minors >= 16, `${minors} young collections for 64 MiB of messages`);
});
