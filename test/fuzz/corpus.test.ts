// Replays every input in test/fuzz/corpus/<target>/ (findings of past fuzz runs, and hand-made
// hostile inputs from seed-corpus.ts) through its target: each must now be accepted or refused
// with the parser's own clean error. Network targets start their servers on 127.0.0.1 first and
// must still pass their health check afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { TARGETS, loadTarget } from './targets/index.ts';
import { listEntries } from './lib/corpus.ts';
import { unexpected, SLOW_MS, type Outcome } from './lib/target.ts';

for (const { name } of TARGETS) {
  test(`fuzz corpus replays cleanly: ${name}`, async (t) => {
    const entries = listEntries(name);
    assert.ok(entries.length > 0, `test/fuzz/corpus/${name}/ is empty: the replay would prove nothing`);
    const target = await loadTarget(name);
    // Before setup: a setup that fails half-way (a server started, a request refused) must still be
    // torn down, or its open server keeps this file's process alive until CI's limit.
    t.after(async () => {
      await target.teardown?.();
    });
    await target.setup?.();
    const bad: string[] = [];
    for (const { file, input } of entries) {
      let out: Outcome;
      const t0 = performance.now();
      try {
        const r = target.run(input);
        const ms = performance.now() - t0;
        out = r instanceof Promise ? await r : ms > (target.slowMs ?? SLOW_MS) ? { kind: 'finding', why: `slow input: ${Math.round(ms)} ms`, sig: 'slow' } : r;
      } catch (err) {
        out = unexpected(err);
      }
      if (out.kind === 'finding') bad.push(`${relative(process.cwd(), file)}: ${out.why}`);
    }
    const sick = await target.healthy?.();
    if (sick) bad.push(sick);
    assert.deepEqual(bad, [], `${bad.length} of ${entries.length} corpus inputs still produce findings`);
  });
}
