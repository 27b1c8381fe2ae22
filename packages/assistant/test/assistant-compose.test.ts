import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutTorrent } from '../src/answer/answer.ts';
import { excerpt, mergeActions, openAction, selectFindings } from '../src/answer/compose.ts';
import type { Finding } from '../src/types.ts';
import { torrentView } from './helpers.ts';

test('excerpts: whole sentences up to the limit, URLs and file names intact, list items on their lines, no code blocks', () => {
  const body = 'A magnet link (magnet:?xt=urn:btih:…) names a torrent. Open **Add** and paste it; a `.torrent` file works too.\n\n```json\n{"uri": "x"}\n```\n\nThree ways:\n- Paste it.\n- Drop file.mkv on the page.\n\nLast paragraph.';
  assert.equal(excerpt(body, 400), 'A magnet link (magnet:?xt=urn:btih:…) names a torrent. Open Add and paste it; a .torrent file works too. Three ways:\n- Paste it.\n- Drop file.mkv on the page. Last paragraph.');
  assert.equal(excerpt(body, 60), 'A magnet link (magnet:?xt=urn:btih:…) names a torrent.');
});

test('findings: problems, warnings, notes; ok only alone; at most five', () => {
  const f = (id: string, severity: Finding['severity']): Finding => ({ id, severity, title: id, evidence: '', entries: [], actions: [] });
  assert.deepEqual(selectFindings([f('a', 'ok'), f('b', 'warning'), f('c', 'info'), f('d', 'problem')]).map((x) => x.id), ['d', 'b', 'c']);
  assert.deepEqual(selectFindings([f('a', 'ok'), f('b', 'ok')]).map((x) => x.id), ['a', 'b']);
  assert.equal(selectFindings(Array.from({ length: 9 }, (_, i) => f(`p${i}`, 'problem'))).length, 5);
});

test('actions: de-duplicated by id and target; an entry\'s place becomes an "Open" button with the torrent filled in', () => {
  const re = { id: 'reannounce', label: 'Re-announce now', request: { method: 'POST' as const, path: '/api/torrents/ab/announce' } };
  const merged = mergeActions([[re, { id: 'open-settings', label: 'Open Settings', href: '#/settings' }], [{ ...re }, { id: 'open-settings', label: 'Settings', href: '#/settings' }, { id: 'open-settings', label: 'Network', href: '#/settings?section=network' }]]);
  assert.deepEqual(merged.map((a) => `${a.id} ${a.href ?? a.request?.path}`), ['reannounce /api/torrents/ab/announce', 'open-settings #/settings', 'open-settings #/settings?section=network']);
  const entry = { id: 'x', title: 'X', ui: '#/torrents/<hash>', keywords: [], body: 'b' };
  assert.deepEqual(openAction(entry, 'ab'.repeat(20)), { id: `open-torrents-${'ab'.repeat(20)}`, label: 'Open the torrent', href: `#/torrents/${'ab'.repeat(20)}` });
  assert.equal(openAction(entry)!.href, '#/torrents');
  assert.equal(openAction({ ...entry, ui: '#/network' })!.label, 'Open Network');
  assert.equal(openAction({ ...entry, ui: null }), undefined);
});

test('the torrent named in a question is left out of what retrieval searches', () => {
  const t = torrentView({ infoHash: 'ab12cd34'.repeat(5), name: 'Ubuntu 24.04 Desktop' });
  assert.equal(withoutTorrent('my Ubuntu 24.04 Desktop has an error', t), 'my has an error');
  assert.equal(withoutTorrent('ubuntu desktop stuck', t), 'stuck');
  assert.equal(withoutTorrent('what about ab12cd34 and deadbeef?', t), 'what about and deadbeef?');
  assert.equal(withoutTorrent('Ubuntu 24.04 Desktop', t), 'Ubuntu 24.04 Desktop');
});
