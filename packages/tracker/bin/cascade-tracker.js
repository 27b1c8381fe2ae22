#!/usr/bin/env node
// `cascade-tracker`: the tracker on its own, as `node packages/tracker/src/cli.ts` runs it, with
// Node's compile cache turned on before any TypeScript loads. From the second start on, the
// sources load already stripped and Node's type stripper (a WebAssembly module whose memory
// never shrinks) is not even loaded: the process starts about 20 MB smaller, which matters to a
// tracker meant to hold a million peers in 200 MB. Plain JavaScript for that reason. Needs Node 24.
import module from 'node:module';

module.enableCompileCache?.();
const { runTrackerCli, CliUsageError } = await import('../src/cli.ts');
try {
  await runTrackerCli(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`cascade tracker: ${err.message}\n`);
  process.exitCode = err instanceof CliUsageError ? 2 : 1;
}
