// Preloaded (`node --import ./loaded-modules.ts main.ts …`) by command-modules.test.ts: notes every
// module the process loads (ES modules and CommonJS alike, through module.registerHooks) and writes
// their URLs, one a line, to the file in CASCADE_TEST_LOADED_MODULES when the process exits, and
// when it gets SIGUSR2 (what a running `serve` has loaded so far).
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env['CASCADE_TEST_LOADED_MODULES'];
const loaded = new Set<string>();
registerHooks({
  load(url, context, next) {
    loaded.add(url);
    return next(url, context);
  },
});
if (file) {
  const write = () => writeFileSync(file, [...loaded].join('\n') + '\n');
  process.on('exit', write);
  process.on('SIGUSR2', write);
}
