// Every command has help: `cascade help X` and `cascade X --help` answer (exit 0) with its usage and
// every option it accepts. The walk starts from `cascade help`'s own list, so a command added later
// without help fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { COMMANDS, optionForms } from '../src/parse/spec.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cascade(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, CASCADE_HOME: '/nonexistent' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs every command line, four processes at a time (each is independent); results in order. */
async function runAll(argvs: string[][]): Promise<Run[]> {
  const out: Run[] = new Array(argvs.length);
  let next = 0;
  const worker = async () => {
    while (next < argvs.length) {
      const i = next++;
      out[i] = await cascade(...argvs[i]!);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return out;
}

test('cascade help lists every command; each has help through both doors, naming all its options', { timeout: 180_000 }, async () => {
  const top = await cascade('help');
  assert.equal(top.code, 0, top.stderr);
  const listed = top.stdout
    .split('commands:\n')[1]!
    .split('\n\n')[0]!
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0]!);
  assert.ok(listed.includes('tracker'), 'tracker is listed');
  for (const name of Object.keys(COMMANDS)) assert.ok(listed.includes(name), `${name} is listed`);

  const argvs = listed.flatMap((name) => [['help', name], [name, '--help']]);
  const runs = await runAll(argvs);
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
  const r = await cascade('help', 'frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});
