// The soak's timeline, shared by the single node (soak.ts) and the cluster (cluster.ts):
//   warm-up (churn) → quiet-before (no churn, settled) → steady (churn; slopes fitted here)
//   → quiet-after (no churn, settled: descriptors, sockets, handles and timers must be back),
// with a sample every `sampleEverySec` throughout. What the churn is and what a sample measures
// are the caller's; when and in which phase they run is this file's.

import { setTimeout as sleep } from 'node:timers/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Sample } from './sample.ts';

export interface TimelineOptions {
  /** Seconds of churn in all (warm-up + steady). */
  seconds: number;
  sampleEverySec: number;
  /** Share of `seconds` that is warm-up. */
  warmupShare: number;
  /** Seconds without churn before each quiet measurement, and how many samples it takes. */
  settleSec: number;
  quietSamples: number;
  log?: (line: string) => void;
  /** Called with each sample as it is taken. */
  onSample?: (s: Sample) => void;
}

/** Runs `fn` every `everyMs` until `stop()` says so; one run at a time. */
export async function loop(stop: () => boolean, everyMs: number, fn: () => Promise<void>): Promise<void> {
  while (!stop()) {
    await fn();
    const until = Date.now() + everyMs;
    while (!stop() && Date.now() < until) await sleep(Math.min(200, everyMs));
  }
}

export class Timeline {
  readonly samples: Sample[] = [];
  /** Samples that could not be taken (a member not answering /metrics is a finding). */
  readonly errors: string[] = [];
  readonly o: TimelineOptions;
  readonly #sample: (t: number, phase: string) => Promise<Sample>;
  readonly #t0 = performance.now();
  #phase = 'warm-up';
  #churning = false;
  #sampling = true;

  /** `sample(t, phase)` measures everything once; the clock (`now()`) starts here. */
  constructor(o: TimelineOptions, sample: (t: number, phase: string) => Promise<Sample>) {
    this.o = o;
    this.#sample = sample;
  }

  /** Seconds since the timeline was made. */
  now(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  /** Ends the churn and the sampling (a cleanup, also on a failure or Ctrl-C). */
  stop(): void {
    this.#churning = false;
    this.#sampling = false;
  }

  /**
   * The whole timeline: `loops(stop)` starts the churn's loops (called once per churn phase, each
   * loop ending when `stop()` says so); `afterChurn` runs when a churn phase's loops have ended (feed
   * clients dropped, chat users gone).
   */
  async run(loops: (stop: () => boolean) => Promise<void>[], afterChurn: () => void): Promise<void> {
    // The soak's own event-loop delay beside the nodes': on a shared, loaded machine both stall
    // together when the CPU is taken from them, and only a node's own delay above that is its doing.
    const own = monitorEventLoopDelay({ resolution: 20 });
    own.enable();
    const sampler = (async () => {
      while (this.#sampling) {
        try {
          const s = await this.#sample(this.now(), this.#phase);
          s.values.harness_eld_p99_ms = Math.max(0, own.percentile(99) / 1e6 - 20);
          own.reset();
          this.samples.push(s);
          this.o.onSample?.(s);
        } catch (err) {
          this.errors.push(`sample: ${(err as Error).message}`);
        }
        const until = Date.now() + this.o.sampleEverySec * 1000;
        while (this.#sampling && Date.now() < until) await sleep(200);
      }
    })();
    const churnFor = async (seconds: number) => {
      this.#churning = true;
      const running = loops(() => !this.#churning);
      const until = Date.now() + seconds * 1000;
      while (this.#churning && Date.now() < until) await sleep(200);
      this.#churning = false;
      await Promise.all(running);
      afterChurn();
    };
    const count = (name: string) => this.samples.filter((s) => s.phase === name).length;
    const quiet = async (name: string) => {
      this.#phase = 'settling';
      await sleep(this.o.settleSec * 1000);
      this.#phase = name;
      const want = count(name) + this.o.quietSamples;
      while (this.#sampling && count(name) < want) await sleep(200);
      this.#phase = 'settling';
    };
    try {
      const warm = Math.max(this.o.sampleEverySec * 2, this.o.seconds * this.o.warmupShare);
      await churnFor(warm);
      await quiet('quiet-before');
      this.#phase = 'steady';
      this.o.log?.(`warm-up done at ${this.now().toFixed(0)} s; steady churn`);
      await churnFor(this.o.seconds - warm);
      await quiet('quiet-after');
    } finally {
      this.#sampling = false;
      await sampler;
      own.disable();
    }
  }
}
