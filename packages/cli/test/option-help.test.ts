// Issue 65 item 5: the help a command prints and the parser that reads its command line come from
// the same spec entry, so they cannot disagree. `serve --help` once listed `--lsd` with the text of
// `--no-lsd` while its usage line said `--no-lsd`. Every option row of every command's help is
// parsed back here in the spelling shown, and must set that option the way the row says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, usageText } from '../src/parse/spec.ts';
import { parseCommandLine, type Invocation } from '../src/parse/args.ts';
import { UsageError } from '../src/core/errors.ts';

interface Row {
  short: string | undefined;
  flag: string;
  arg: string | undefined;
  text: string;
}

/** The rows of a command's `options:` section (a long flag puts its text on the next line). */
function rows(help: string): Row[] {
  const lines = help.split('options:\n')[1]!.split('\n');
  const out: Row[] = [];
  for (const line of lines) {
    const m = /^ {2}(?:-([a-zA-Z]), )?(--[a-z0-9-]+)(?: (\S+))?(?: {2,}(.*))?$/.exec(line);
    if (m) out.push({ short: m[1], flag: m[2]!, arg: m[3], text: m[4] ?? '' });
    else out.at(-1)!.text += line.trim();
  }
  return out;
}

/** A value each option's own checks accept (they run in the parser). */
const SAMPLE: Record<string, string> = {
  N: '1', URL: 'http://127.0.0.1:1/', 'HOST:PORT': 'h:1', 'HOST:PORT,…': 'h:1', SIZE: '1k', RATE: '1k', SECONDS: '5', HEX: 'a'.repeat(64),
  'asc|desc': 'asc', 'on|off': 'on', MODE: 'off', ADDR: '10.0.0.1', NAME: 'a.b', HASH: 'ab', ADDRESS: `0x${'1'.repeat(40)}`, MIN: '5',
};
const BY_OPTION: Record<string, string> = {
  database: 'postgres://127.0.0.1:1/x', redis: 'redis://127.0.0.1:1', 'ice-server': 'stun:h:1', key: `0x${'1'.repeat(64)}`,
  'chain-id': '1', limit: '1', 'max-items': '1', interval: '5', 'piece-length': '16k', category: 'c', 'llm-model': 'm',
};

/** A parse error that means the parser does not take the flag as shown (not a clash with another option). */
const NOT_TAKEN = /Unknown option|argument missing|does not take an argument/;

function parse(command: string, extra: string[]): Invocation {
  const positionals = Array.from({ length: COMMANDS[command]!.positionals[0] }, () => 'x');
  return parseCommandLine([command, ...positionals, ...extra], {});
}

test('every option row of every command is accepted by its parser, spelled as shown, and does what the spelling says', () => {
  for (const command of Object.keys(COMMANDS)) {
    const help = usageText(command);
    const shown = rows(help);
    assert.ok(shown.length >= COMMANDS[command]!.options.length, `${command}: a row per option`);
    for (const row of shown) {
      const where = `cascade ${command} ${row.flag}`;
      assert.doesNotMatch(row.text, /^--/, `${where}: the text describes the option; the flag is spelled once, in the flag column`);
      const off = row.flag.startsWith('--no-');
      const name = off ? row.flag.slice('--no-'.length) : row.flag.slice(2);
      const value = row.arg === undefined ? undefined : (BY_OPTION[name] ?? SAMPLE[row.arg] ?? 'x');
      for (const spelling of [row.flag, ...(row.short ? [`-${row.short}`] : [])]) {
        let inv: Invocation;
        try {
          inv = parse(command, value === undefined ? [spelling] : [spelling, value]);
        } catch (err) {
          // A clash with an option not given here (--llm-url wants --llm-model) still means the flag was taken.
          assert.ok(err instanceof UsageError, `${where}: ${String(err)}`);
          assert.doesNotMatch(err.message, NOT_TAKEN, `${where} ${value ?? ''}`);
          continue;
        }
        const got = inv.values[name];
        if (value === undefined) assert.equal(got, !off, `${where} sets ${name} to ${!off}`);
        else assert.deepEqual([got].flat(), [value], `${where} ${value}`);
      }
    }
  }
});

test("every flag a command's usage line names is one its parser takes", () => {
  for (const [command, spec] of Object.entries(COMMANDS)) {
    for (const flag of new Set(spec.usage.match(/--[a-z0-9-]+/g) ?? [])) {
      try {
        parse(command, [flag, 'x']);
      } catch (err) {
        assert.doesNotMatch(String(err), /Unknown option/, `cascade ${command}: its usage names ${flag}`);
      }
    }
  }
});

test('serve shows --no-lsd with what turning it off does (LSD is on by default there); seed and download show --lsd', () => {
  const serve = rows(usageText('serve')).filter((r) => /^--(no-)?lsd$/.test(r.flag));
  assert.deepEqual(serve.map((r) => r.flag), ['--no-lsd']);
  assert.match(serve[0]!.text, /^no local service discovery/);
  assert.match(usageText('serve').split('\n')[0]!, /\[--no-lsd\]/, 'the usage line agrees');
  assert.equal(parse('serve', ['--no-lsd']).options.lsd, 'off');
  assert.equal(parse('serve', []).options.lsd, 'setting', 'not given: the lsd setting, on unless changed');
  for (const command of ['seed', 'download']) {
    const row = rows(usageText(command)).filter((r) => /^--(no-)?lsd$/.test(r.flag));
    assert.deepEqual(row.map((r) => r.flag), ['--lsd'], command);
    assert.match(row[0]!.text, /^find peers on the LAN/, command);
    assert.equal(parse(command, ['--lsd']).options.lsd, 'on');
    assert.equal(parse(command, []).options.lsd, 'off');
  }
});
