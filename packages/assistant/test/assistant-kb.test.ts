import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HelpEntryError, loadHelpDir, parseHelpEntry, validateEntries } from '../src/knowledge/kb.ts';

const fixtures = join(import.meta.dirname, 'fixtures', 'help');

test('loads the fixture entries with their front matter', () => {
  const entries = loadHelpDir(fixtures);
  assert.equal(entries.length, 8);
  const stalled = entries.find((e) => e.id === 'stalled-download')!;
  assert.equal(stalled.title, 'My download is stuck or stalled');
  assert.equal(stalled.ui, '#/torrents');
  assert.deepEqual(stalled.keywords.slice(0, 3), ['stuck', 'stalled', '0%']);
  assert.match(stalled.body, /^A download that stays at 0%/);
  assert.equal(entries.find((e) => e.id === 'hash-failures')!.ui, null);
});

const entry = (fm: string, body = 'Some text.') => `---\n${fm}\n---\n${body}\n`;

test('each broken entry is refused with a message naming the file', () => {
  const cases: [string, string, RegExp][] = [
    ['no-front.md', 'just text', /no front matter/],
    ['bad-yaml.md', entry('id: bad-yaml\ntitle: [unclosed'), /not valid YAML/],
    ['other.md', entry('id: not-other\ntitle: T\nui: null\nkeywords: []'), /does not match the file name/],
    ['Bad_Id.md', entry('title: T\nui: null'), /not kebab-case/],
    ['no-title.md', entry('id: no-title\nui: null'), /title is missing/],
    ['bad-ui.md', entry('id: bad-ui\ntitle: T\nui: /settings'), /not a route of the web app \(#\/torrents, #\/share/],
    ['bad-view.md', entry('id: bad-view\ntitle: T\nui: "#/wallet"'), /not a route of the web app/],
    ['bad-kw.md', entry('id: bad-kw\ntitle: T\nui: null\nkeywords: stuck'), /keywords must be a list/],
    ['extra.md', entry('id: extra\ntitle: T\nui: null\ntags: [a]'), /unknown front matter key "tags"/],
    ['empty.md', entry('id: empty\ntitle: T\nui: null', ''), /body .* is empty/],
  ];
  for (const [file, text, message] of cases) {
    assert.throws(() => parseHelpEntry(text, `docs/help/${file}`), (err: unknown) => {
      assert.ok(err instanceof HelpEntryError, file);
      assert.equal(err.file, `docs/help/${file}`);
      assert.match(err.message, new RegExp(`^docs/help/${file.replace('.', '\\.')}: `));
      assert.match(err.message, message);
      return true;
    });
  }
});

test('quoted strings, numbers in keywords, a torrent route and no id (taken from the file name)', () => {
  const e = parseHelpEntry(entry('title: "Error: 404 \\"not found\\""\nui: "#/torrents/<hash>"\nkeywords: [404, "won\'t start", can\'t connect]'), 'x/web-404.md');
  assert.equal(e.id, 'web-404');
  assert.equal(e.title, 'Error: 404 "not found"');
  assert.equal(e.ui, '#/torrents/<hash>');
  assert.deepEqual(e.keywords, ['404', "won't start", "can't connect"]);
});

test('a folder with a duplicate id, and one that does not exist', () => {
  assert.throws(() => validateEntries([
    { id: 'a', title: 'A', ui: null, keywords: [], body: 'x' },
    { id: 'a', title: 'A again', ui: null, keywords: [], body: 'y' },
  ]), /help entry "a": id is used twice/);
  const dir = mkdtempSync(join(tmpdir(), 'help-'));
  writeFileSync(join(dir, 'ok.md'), entry('id: ok\ntitle: Fine\nui: "#/settings"\nkeywords: [a]'));
  writeFileSync(join(dir, 'broken.md'), entry('id: broken\nui: null'));
  assert.throws(() => loadHelpDir(dir), /broken\.md: title is missing/);
  assert.throws(() => loadHelpDir(join(dir, 'nope')), /help folder .*nope cannot be read: ENOENT/);
});
