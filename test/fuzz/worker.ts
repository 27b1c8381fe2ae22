// Runs one target in a worker thread, so the runner can kill it when an input hangs it and still
// know which input that was: the input under test is always mirrored into shared memory.

import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { loadTarget } from './targets/index.ts';
import { Rng } from './lib/rng.ts';
import { concat, mutate } from './lib/mutate.ts';
import { HEADER_BYTES, SLOT, type WorkerInput } from './lib/sab.ts';
import { defaultGenerate, unexpected, finding, SLOW_MS, type GenContext, type Outcome, type Target } from './lib/target.ts';

const SAVED_PER_SIG = 3;
const MAX_POOL = 512;
const MAX_POOL_ENTRY = 256 * 1024;

const data = workerData as WorkerInput;
const port = parentPort!;
const head = new Int32Array(data.sab, 0, HEADER_BYTES / 4);
const mirror = new Uint8Array(data.sab, HEADER_BYTES);

function publish(input: Uint8Array): void {
  const n = Math.min(input.length, mirror.length);
  mirror.set(n === input.length ? input : input.subarray(0, n));
  head[SLOT.length] = n;
  head[SLOT.truncated] = n === input.length ? 0 : 1;
  head[SLOT.beat]++;
}

function runSafely(t: Target, input: Uint8Array): Outcome | Promise<Outcome> {
  try {
    const out = t.run(input);
    return out instanceof Promise ? out.catch(unexpected) : out;
  } catch (err) {
    return unexpected(err);
  }
}

/** Greedy chunk removal while the input still produces the same finding. Sync targets only. */
function minimize(t: Target, input: Uint8Array, sig: string): Uint8Array {
  let best = input;
  let budget = 4000;
  const same = (c: Uint8Array) => {
    publish(c);
    const o = runSafely(t, c);
    if (o instanceof Promise) return false;
    return o.kind === 'finding' && o.sig === sig;
  };
  for (let chunk = best.length >> 1; chunk >= 1 && budget > 0; chunk >>= 1) {
    for (let i = 0; i + chunk <= best.length && budget-- > 0; ) {
      const c = concat(best.subarray(0, i), best.subarray(i + chunk));
      if (same(c)) best = c;
      else i += chunk;
    }
  }
  return best;
}

async function main(): Promise<void> {
  const t = await loadTarget(data.target);
  const rng = new Rng(data.seed);
  const pool: Uint8Array[] = t.seeds();
  const seedCount = pool.length;
  const g: GenContext = { rng, pool, mutate: (b, o) => mutate(rng, b, pool, o ?? t.mutateOptions) };
  await t.setup?.();
  port.postMessage({ type: 'ready', hangMs: t.hangMs ?? 10_000 });

  const perSig = new Map<string, number>();
  const batch = t.batch ?? 1000;
  let n = 0;

  const report = (out: Extract<Outcome, { kind: 'finding' }>, input: Uint8Array, sync: boolean) => {
    head[SLOT.findings]++;
    const seen = perSig.get(out.sig) ?? 0;
    perSig.set(out.sig, seen + 1);
    if (seen >= SAVED_PER_SIG) return;
    // A slow input is slow every time: shrinking it would take thousands of slow runs.
    const small = sync && t.minimize && out.sig !== 'slow input' ? minimize(t, input, out.sig) : input;
    port.postMessage({ type: 'finding', why: out.why, sig: out.sig, input: small, originalLength: input.length });
  };

  while (n < data.inputs && Date.now() < data.deadline) {
    const input = t.generate ? t.generate(g) : defaultGenerate(t, g);
    publish(input);
    const t0 = performance.now();
    let out = runSafely(t, input);
    const sync = !(out instanceof Promise);
    if (out instanceof Promise) out = await out;
    const dt = performance.now() - t0;
    if (sync && dt > (t.slowMs ?? SLOW_MS) && out.kind !== 'finding') out = finding(`slow input: ${Math.round(dt)} ms`, 'slow input');
    n++;
    Atomics.add(head, SLOT.inputs, 1);
    if (out.kind === 'accepted') {
      head[SLOT.accepted]++;
      // Slow inputs stay out of the pool: their mutations would be slow too, and crowd out the rest.
      if (input.length <= MAX_POOL_ENTRY && (!sync || dt < 5) && rng.chance(0.05)) {
        if (pool.length < seedCount + MAX_POOL) pool.push(input);
        else pool[seedCount + rng.int(MAX_POOL)] = input;
      }
    } else if (out.kind === 'rejected') head[SLOT.rejected]++;
    else report(out, input, sync);

    if (t.healthy && n % batch === 0) {
      const bad = await t.healthy();
      if (bad) report(finding(bad, bad) as Extract<Outcome, { kind: 'finding' }>, input, false);
    }
  }
  if (t.healthy) {
    const bad = await t.healthy();
    if (bad) report(finding(bad, bad) as Extract<Outcome, { kind: 'finding' }>, new Uint8Array(0), false);
  }
  port.postMessage({ type: 'done' });
  await t.teardown?.();
  port.postMessage({ type: 'closed' });
}

main().catch((err) => {
  port.postMessage({ type: 'fatal', message: (err as Error)?.stack ?? String(err) });
});
