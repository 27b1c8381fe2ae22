// Every command has help: `cascade help X` and `cascade X --help` answer (exit 0) with its usage and
// every option it accepts. The walk starts from `cascade help`'s own list, so a command added later
// without help fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { COMMANDS, OPTION_DEFS } from '../src/spec.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');

function cascade(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, CASCADE_HOME: '/nonexistent' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('cascade help lists every command; each has help through both doors, naming all its options', { timeout: 180_000 }, () => {
  const top = cascade('help');
  assert.equal(top.code, 0, top.stderr);
  const listed = top.stdout
    .split('commands:\n')[1]!
    .split('\n\n')[0]!
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!);
  assert.ok(listed.includes('tracker'), 'tracker is listed');
  for (const name of Object.keys(COMMANDS)) assert.ok(listed.includes(name), `${name} is listed`);

  for (const name of listed) {
    for (const argv of [['help', name], [name, '--help']]) {
      const r = cascade(...argv);
      assert.equal(r.code, 0, `cascade ${argv.join(' ')}: ${r.stderr}`);
      // `cascade help --help` is `cascade --help`: the list of commands, which is help's own help.
      const want = argv.join(' ') === 'help --help' ? /^usage: cascade <command>/ : new RegExp(`^usage: cascade ${name}\\b`);
      assert.match(r.stdout, want, `cascade ${argv.join(' ')}`);
      if (name === 'tracker') {
        for (const o of ['--http-port', '--udp-port', '--ws', '--private']) assert.ok(r.stdout.includes(o), `tracker help names ${o}`);
        continue;
      }
      for (const o of COMMANDS[name]!.options) {
        const shown = OPTION_DEFS[o].default === true ? `--no-${o}` : `--${o}`;
        assert.ok(r.stdout.includes(shown), `cascade ${argv.join(' ')} names ${shown}`);
      }
    }
  }
});

test('help for an unknown command is a usage error naming it', () => {
  const r = cascade('help', 'frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});
