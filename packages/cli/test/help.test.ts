// Every command has help: `cascade help X` and `cascade X --help` answer (exit 0) with its usage and
// every option it accepts. The walk starts from `cascade help`'s own list, so a command added later
// without help fails here. `cascade help`, the tracker's two (its own parser prints them to the
// process's stdout) and the unknown command run as `cascade` processes; the other ~100 help texts
// of the walk come from the same main() inside this process (cascadeHere): what each prints is the
// test, not ~100 processes' module loading (~0.4 CPU-s each).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, optionForms } from '../src/parse/spec.ts';
import { cascade, cascadeHere, type Run } from './node-process.ts';

test('cascade help lists every command; each has help through both doors, naming all its options', { timeout: 180_000 }, async () => {
  const top = await cascade(['help']);
  assert.equal(top.code, 0, top.stderr);
  const listed = top.stdout
    .split('commands:\n')[1]!
    .split('\n\n')[0]!
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!);
  assert.ok(listed.includes('tracker'), 'tracker is listed');
  for (const name of Object.keys(COMMANDS)) assert.ok(listed.includes(name), `${name} is listed`);

  const argvs = listed.flatMap((name) => [['help', name], [name, '--help']]);
  const runs: Run[] = [];
  for (const argv of argvs) runs.push(await (argv.includes('tracker') ? cascade(argv) : cascadeHere(argv)));
  for (const name of listed) {
    for (const argv of [['help', name], [name, '--help']]) {
      const r = runs[argvs.findIndex((a) => a[0] === argv[0] && a[1] === argv[1])]!;
      assert.equal(r.code, 0, `cascade ${argv.join(' ')}: ${r.stderr}`);
      // `cascade help --help` is `cascade --help`: the list of commands, which is help's own help.
      const want = argv.join(' ') === 'help --help' ? /^usage: cascade <command>/ : new RegExp(`^usage: cascade ${name}\\b`);
      assert.match(r.stdout, want, `cascade ${argv.join(' ')}`);
      if (name === 'tracker') {
        for (const o of ['--http-port', '--udp-port', '--ws', '--private']) assert.ok(r.stdout.includes(o), `tracker help names ${o}`);
        continue;
      }
      for (const { flag } of optionForms(COMMANDS[name]!)) {
        assert.ok(r.stdout.includes(flag), `cascade ${argv.join(' ')} names ${flag}`);
      }
    }
  }
});

test('help for an unknown command is a usage error naming it', async () => {
  const r = await cascade(['help', 'frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});
