import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { AssistantInputError, createAssistant, UnknownTorrentError } from '../src/answer/answer.ts';
import { ConversationStore, followUpKind, isFollowUp } from '../src/answer/conversation.ts';
import type { Finding, NodeView } from '../src/types.ts';
import { healthView, nodeView, sampleChecks, torrentView } from './helpers.ts';

const helpDir = join(import.meta.dirname, 'fixtures', 'help');
const HASH = 'ab12cd34'.repeat(5);
const OTHER = '99ff00ee'.repeat(5);

function brokenNode() {
  const stuck = torrentView({
    infoHash: HASH, name: 'ubuntu-24.04-desktop-amd64.iso', stalledSeconds: 600,
    trackers: [{ url: 'udp://10.0.0.1:6969', status: 'error', peers: 0, lastError: 'timed out', failures: 5 }],
  });
  const fine = torrentView({ infoHash: OTHER, name: 'Holiday Photos', peers: 4, seeds: 2, state: 'seeding', progress: 1 });
  return nodeView([stuck, fine], healthView({ dhtEnabled: false, dhtNodes: 0 }));
}

test('a question about a torrent: its findings first (problem, then warning, no "ok"), evidence, sources cited, actions merged', async () => {
  const a = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks });
  const r = await a.ask({ question: 'why is this stuck?', infoHash: HASH });
  assert.deepEqual(r.findings.map((f) => f.id), ['tracker-unreachable', 'no-peers']);
  assert.equal(r.answeredBy, 'built-in');
  assert.equal(r.sources[0]!.id, 'stalled-download');
  const lines = r.answer.split('\n');
  assert.match(lines[0]!, /Checked "ubuntu-24\.04-desktop-amd64\.iso"/);
  assert.match(lines[1]!, /^- \*\*Problem:\*\* Your only tracker does not answer.*udp:\/\/10\.0\.0\.1:6969 timed out 5 times.*\[1\]$/);
  assert.match(lines[2]!, /^- \*\*Warning:\*\* No peers connected/);
  assert.match(r.answer, /\*\*My download is stuck or stalled\*\* \[1\]: A download that stays at 0%/);
  assert.doesNotMatch(r.answer, /Files are writable/);
  // Re-announce from the finding, Settings once (the finding's and no duplicate), the entry's Torrents place.
  assert.deepEqual(r.actions.map((x) => x.id), ['reannounce', 'open-settings', 'open-torrents']);
  assert.equal(r.actions[0]!.request!.path, `/api/torrents/${HASH}/announce`);
  assert.ok(r.conversation.length > 0);
});

test('a torrent named in the question (by name words or an infohash prefix) gets its checks; an unnamed one does not', async () => {
  const seen: (string | undefined)[] = [];
  const checks = async (n: NodeView, h?: string) => { seen.push(h); return sampleChecks(n, h); };
  const a = createAssistant({ helpDir, node: brokenNode(), checks });
  const byName = await a.ask({ question: 'my ubuntu download wont start' });
  assert.equal(seen.at(-1), HASH);
  assert.equal(byName.findings[0]!.id, 'tracker-unreachable');
  await a.ask({ question: `what's wrong with ${HASH.slice(0, 8)}?` });
  assert.equal(seen.at(-1), HASH);
  await a.ask({ question: 'is holiday photos ok' });
  assert.equal(seen.at(-1), OTHER);
  const general = await a.ask({ question: 'how do I change my password' });
  assert.equal(seen.at(-1), undefined);
  assert.equal(general.findings.length, 0);
  assert.equal(general.sources[0]!.id, 'change-password');
  assert.doesNotMatch(general.answer, /Checked/);
});

test('"my download is stuck" naming no torrent: the only unfinished torrent is the one meant; with two, none is guessed', async () => {
  const seen: (string | undefined)[] = [];
  const checks = async (n: NodeView, h?: string) => { seen.push(h); return sampleChecks(n, h); };
  const a = createAssistant({ helpDir, node: brokenNode(), checks });
  const r = await a.ask({ question: 'my download is stuck at 0%, why??' });
  assert.equal(seen.at(-1), HASH);
  assert.equal(r.findings[0]!.id, 'tracker-unreachable');
  assert.match(r.answer, /Checked "ubuntu-24\.04-desktop-amd64\.iso"/);
  // Not a transfer question: no torrent is looked at.
  await a.ask({ question: 'how do I change my password' });
  assert.equal(seen.at(-1), undefined);
  const two = nodeView([torrentView({ infoHash: HASH, name: 'one' }), torrentView({ infoHash: OTHER, name: 'two' })]);
  const b = createAssistant({ helpDir, node: two, checks });
  await b.ask({ question: 'my download is stuck' });
  assert.equal(seen.at(-1), undefined);
});

test('node-wide findings join a general question only when they explain it', async () => {
  const node = nodeView([], healthView({ disk: { free: 1000, total: 1e12 } }));
  const a = createAssistant({ helpDir, node, checks: sampleChecks });
  const disk = await a.ask({ question: 'cannot write files, no space left' });
  assert.deepEqual(disk.findings.map((f) => f.id), ['disk-full']);
  assert.match(disk.answer, /^- \*\*Problem:\*\* The download disk is full\. 1000 bytes free in \/downloads \[1\]/);
  const magnet = await a.ask({ question: 'how to add a magnet link' });
  assert.equal(magnet.findings.length, 0);
  assert.equal(magnet.sources[0]!.id, 'add-magnet');
  assert.deepEqual(magnet.actions.map((x) => x.href), ['#/add', ...magnet.actions.slice(1).map((x) => x.href)]);
});

test('only "ok" findings: they are shown, and the answer says nothing wrong was found', async () => {
  const a = createAssistant({ helpDir, node: brokenNode(), checks: async (_n, h) => (h ? [{ id: 'all-good', severity: 'ok', title: 'Downloading normally', evidence: '4 peers, 2 seeds', infoHash: h, entries: [], actions: [] } satisfies Finding] : []) });
  const r = await a.ask({ question: 'is it fine?', infoHash: OTHER });
  assert.deepEqual(r.findings.map((f) => f.id), ['all-good']);
  assert.match(r.answer, /Checked "Holiday Photos" just now, nothing wrong found:\n- \*\*OK:\*\* Downloading normally\. 4 peers, 2 seeds/);
});

test('a follow-up ("and now?") re-runs the last torrent\'s checks and keeps the question; a new question does not', async () => {
  const seen: (string | undefined)[] = [];
  let fixed = false;
  const checks = async (n: NodeView, h?: string) => {
    seen.push(h);
    return fixed ? [{ id: 'downloading', severity: 'ok' as const, title: 'Downloading again', evidence: '3 peers', infoHash: h, entries: [], actions: [] }] : sampleChecks(n, h);
  };
  const a = createAssistant({ helpDir, node: brokenNode(), checks });
  const first = await a.ask({ question: 'torrent stuck at 0%', infoHash: HASH });
  assert.equal(first.findings[0]!.id, 'tracker-unreachable');
  fixed = true;
  for (const q of ['and now?', 'still not working', 'what about now', 'Is it fixed yet?']) {
    const next = await a.ask({ question: q, conversation: first.conversation });
    assert.equal(seen.at(-1), HASH, q);
    assert.equal(next.findings[0]!.id, 'downloading', q);
    assert.equal(next.sources[0]!.id, 'stalled-download', q);
    assert.equal(next.conversation, first.conversation);
  }
  // A follow-up with words of its own: the same torrent's checks, retrieval for its words.
  const own = await a.ask({ question: 'I forwarded the port, and now?', conversation: first.conversation });
  assert.equal(seen.at(-1), HASH);
  assert.equal(own.sources[0]!.id, 'port-forwarding');
  // A new question in the same conversation is not about the torrent.
  const fresh = await a.ask({ question: 'now how do I add a magnet link', conversation: first.conversation });
  assert.equal(seen.at(-1), undefined);
  assert.equal(fresh.sources[0]!.id, 'add-magnet');
  // Another conversation knows nothing of it.
  const stranger = await a.ask({ question: 'and now?', conversation: 'someone-else' });
  assert.equal(seen.at(-1), undefined);
  assert.equal(stranger.findings.length, 0);
});

test('follow-up detection and the bounded, expiring conversation store', () => {
  for (const q of ['and now?', 'still not working', 'what about now', 'still stuck', 'any better?', 'check again', 'same problem']) assert.ok(isFollowUp(q), q);
  for (const q of ['how do I seed', 'now how do I add a magnet', 'still no peers on my ubuntu torrent after forwarding the port', 'why', 'I forwarded the port, and now?']) assert.ok(!isFollowUp(q), q);
  assert.equal(followUpKind('I forwarded the port, and now?'), 'partial');
  assert.equal(followUpKind('still not working'), 'pure');
  assert.equal(followUpKind('now how do I add a magnet'), null);
  assert.equal(followUpKind('how do I change my password'), null);
  let now = 0;
  const store = new ConversationStore({ max: 2, ttlMs: 1000, now: () => now });
  store.set('a', { question: 'qa' });
  store.set('b', { question: 'qb' });
  assert.equal(store.get('a')!.question, 'qa');
  store.set('c', { question: 'qc' }); // drops b: a was used more recently
  assert.equal(store.get('b'), undefined);
  assert.equal(store.size, 2);
  now = 2000;
  assert.equal(store.get('a'), undefined);
});

test('bad input: empty, too long, a malformed or unknown infohash', async () => {
  const a = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks });
  await assert.rejects(a.ask({ question: '  ' }), AssistantInputError);
  await assert.rejects(a.ask({ question: 'x'.repeat(2001) }), /longer than 2000 characters/);
  await assert.rejects(a.ask({ question: 'hi', infoHash: 'xyz' }), /40 hexadecimal/);
  await assert.rejects(a.ask({ question: 'hi', infoHash: 'f'.repeat(40) }), UnknownTorrentError);
  await assert.rejects(a.ask({ question: 42 } as never), /non-empty string/);
  assert.deepEqual(a.info(), { llm: null, entries: 8 });
});

test('a question nothing answers says so', async () => {
  const a = createAssistant({ helpDir, node: brokenNode(), checks: sampleChecks });
  const r = await a.ask({ question: 'qwertyuiop zxcvb' });
  assert.equal(r.sources.length, 0);
  assert.match(r.answer, /no help entry on that/);
});
