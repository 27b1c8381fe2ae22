// Malformed input to the staples verbs (limits, queue, force-start, category, tags, move, settings,
// list, add): exit 2 with a message naming the problem, before anything is changed. Real processes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers.ts';
import { cascade } from './node-process.ts';

test('bad values are usage errors (exit 2) naming the problem', { timeout: 120_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const ih = 'a'.repeat(40);
  const cases: [string[], RegExp][] = [
    [['limits', '--down', 'fast'], /--down: invalid rate "fast"/],
    [['limits', '--up=-5'], /--up: invalid rate "-5"/],
    [['limits', '--up', '-5'], /--up: invalid rate "-5"/],
    [['limits', '--down', '4 parsecs'], /--down: invalid rate/],
    [['limits', '--alt-down', '1M', ih], /--alt-down, --alt-up and --alt are node-wide/],
    [['limits', '--alt', 'maybe'], /--alt wants on or off, got "maybe"/],
    [['limits', ih, 'extra'], /unexpected argument "extra"/],
    [['queue', ih, 'sideways'], /want up, down, top or bottom.*"sideways"/],
    [['queue', ih], /missing argument/],
    [['force-start'], /missing argument/],
    [['category', 'frobnicate'], /unknown category action "frobnicate"/],
    [['category', 'add'], /category add takes a name/],
    [['category', 'set', ih], /category set takes an infohash and a name/],
    [['category', 'remove', 'x', '--save-path', '/tmp'], /--save-path goes with `category add`/],
    [['tags', ih, 'tag', 'x'], /unknown tags action "tag"/],
    [['tags', ih, 'add'], /tags add wants at least one tag/],
    [['tags', ih, 'add', 'a,,b'], /a tag cannot be empty/],
    [['move', ih], /missing argument/],
    [['settings', 'a', 'b', 'c'], /unexpected argument "c"/],
    [['list', '--order', 'up'], /--order wants asc or desc, got "up"/],
    [['list', '--limit', '0'], /--limit must be between 1/],
    [['list', '--limit', 'ten'], /--limit wants a whole number/],
    [['add', ih, '--tag', ''], /--tag wants a tag name/],
    [['add', ih, '--save-path', 'a', '-o', 'b'], /--save-path and -o say the same thing/],
    [['add', ih, '--save-path', ''], /--save-path wants a directory/],
  ];
  for (const [argv, message] of cases) {
    const r = await cascade([...argv, '--state-dir', stateDir]);
    assert.equal(r.code, 2, `cascade ${argv.join(' ')} → ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, message, `cascade ${argv.join(' ')}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('verbs that act on running torrents say offline that they need a running node (exit 1)', { timeout: 60_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const ih = 'a'.repeat(40);
  for (const argv of [['queue', ih, 'up'], ['force-start', ih], ['move', ih, '/tmp/x'], ['recheck', ih]]) {
    const r = await cascade([...argv, '--state-dir', stateDir]);
    assert.equal(r.code, 1, `cascade ${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /needs a running node.*cascade serve/, `cascade ${argv.join(' ')}`);
  }
});
