// The assistant on a torrent whose only tracker does not answer, on a node without the DHT: the
// API answers with tracker-unreachable (which tracker, how it failed, how many times since when)
// and no-dht, and its "Re-announce now" action is a working request. Also the route's bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addMagnet, ask, bareServer, closedPort, finding, hangingTracker, magnetWith, until } from './assistant-helpers.ts';

const REFUSED_HASH = '1f'.repeat(20);
const HANGING_HASH = '2e'.repeat(20);
const UDP_HASH = '3c'.repeat(20);

test('a torrent whose only tracker refuses, hangs or is a silent UDP port, no DHT: tracker-unreachable and no-dht, with evidence and a re-announce that works', async (t) => {
  const s = await bareServer(t);
  const refused = `http://127.0.0.1:${await closedPort()}/announce`;
  const hanging = await hangingTracker(t);
  const a = await addMagnet(s, magnetWith(REFUSED_HASH, 'refused tracker', refused));
  const b = await addMagnet(s, magnetWith(HANGING_HASH, 'hanging tracker', hanging));
  assert.equal(a, REFUSED_HASH);
  assert.equal(b, HANGING_HASH);
  // A UDP port nobody listens on: no refusal comes back, the tracker just never answers.
  const udp = `udp://127.0.0.1:${await closedPort()}/announce`;
  const c = await addMagnet(s, magnetWith(UDP_HASH, 'silent udp tracker', udp));

  // Refused: the first announce fails at once.
  await until('the refused announce', async () => {
    const d = (await s.json(`/api/torrents/${a}`)).body;
    return d.trackers?.some((x: { status: string }) => x.status === 'error') ? true : undefined;
  });
  const first = await ask(s, { question: 'why is my download stuck at 0%', infoHash: a });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const unreachable = finding(first.body, 'tracker-unreachable');
  assert.equal(unreachable.severity, 'problem');
  assert.equal(unreachable.infoHash, a);
  assert.match(unreachable.title, /only tracker does not answer/i);
  assert.ok(unreachable.evidence.includes(refused), unreachable.evidence);
  assert.match(unreachable.evidence, /ECONNREFUSED/);
  const noDht = finding(first.body, 'no-dht');
  assert.equal(noDht.severity, 'problem');
  assert.match(noDht.evidence, /DHT disabled/);
  // Findings come first in the answer, and it is not the generic "nothing wrong".
  assert.ok(!first.body.findings.some((f) => f.id === 'no-problem-found'));
  assert.match(first.body.answer, /tracker/i);

  // The action is a real request: re-announce now, then the count of failures in a row grows.
  const action = unreachable.actions.find((x) => x.id === 'reannounce');
  assert.ok(action?.request, JSON.stringify(unreachable.actions));
  assert.equal(action.request.path, `/api/torrents/${a}/announce`);
  assert.equal(action.command, `cascade announce ${a.slice(0, 8)}`);
  const re = await s.json(action.request.path, { method: action.request.method });
  assert.equal(re.status, 200, JSON.stringify(re.body));
  assert.equal(re.body.announced, true);
  assert.equal(re.body.dht, 'off');
  assert.equal(re.body.trackers[0].failures, 2, JSON.stringify(re.body.trackers));
  const again = await ask(s, { question: 'and now?', infoHash: a, conversation: first.body.conversation });
  assert.match(finding(again.body, 'tracker-unreachable').evidence, /failed 2 times in a row since \d\d:\d\d:\d\d UTC/);

  // Asked about nothing in particular, the node-wide checks name the download whose trackers fail.
  const { runChecks } = await import('@cascade/assistant');
  const { AssistantNodeView } = await import('@cascade/node-assistant');
  const view = new AssistantNodeView(s.node, { bittorrentHost: '127.0.0.1' });
  t.after(() => view.close());
  const general = (await runChecks(view)).find((f) => f.id === 'tracker-unreachable');
  assert.ok(general?.evidence.includes(`"refused tracker" (${refused}: fetch failed`), JSON.stringify(general));
  assert.match(general!.evidence, /2 times in a row\); DHT off/);

  // Hanging: the announce times out (the engine gives a tracker 15 s).
  await until('the hanging tracker to time out', async () => {
    const d = (await s.json(`/api/torrents/${b}`)).body;
    return d.trackers?.some((x: { status: string }) => x.status === 'error') ? true : undefined;
  }, 25_000);
  const hung = await ask(s, { question: 'torrent not starting', infoHash: b });
  const f = finding(hung.body, 'tracker-unreachable');
  assert.ok(f.evidence.includes(hanging), f.evidence);
  assert.match(f.evidence, /timed out/);
  finding(hung.body, 'no-dht');

  // The UDP tracker, asked 15 s ago and silent since (its own timeout doubles on each try).
  const quiet = await ask(s, { question: 'stuck', infoHash: c });
  const u = finding(quiet.body, 'tracker-unreachable');
  assert.match(u.evidence, new RegExp(`${udp.replace(/[/.]/g, '\\$&')} has not answered its first announce yet \\(the torrent was added \\d+ s ago\\)`));
  finding(quiet.body, 'no-dht');
});

test('the assistant route: GET says no LLM; bad questions are 400, unknown torrents 404; announce of an unknown torrent 404', async (t) => {
  const s = await bareServer(t);
  const info = await s.json('/api/assistant');
  assert.equal(info.status, 200);
  assert.equal(info.body.llm, null);
  assert.equal(typeof info.body.entries, 'number');

  // Members and the owner only (the node's state is private): a visitor gets 401.
  const anon = await s.json('/api/assistant', { method: 'POST', json: { question: 'hi' }, anonymous: true });
  assert.equal(anon.status, 401);
  assert.equal((await s.json('/api/assistant', { anonymous: true })).status, 401);

  const bad = async (body: unknown, status: number, message: RegExp) => {
    const r = await s.json('/api/assistant', { method: 'POST', json: body });
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.body.message, message);
  };
  await bad({}, 400, /question/);
  await bad({ question: '' }, 400, /question/);
  await bad({ question: '   ' }, 400, /question/);
  await bad({ question: 'x'.repeat(2001) }, 400, /2000/);
  await bad({ question: { text: 'hi' } }, 400, /question/);
  await bad({ question: 'hi', infoHash: 'nothex' }, 400, /infoHash/);
  await bad({ question: 'hi', infoHash: 'ab'.repeat(20) }, 404, /no torrent/);

  const ann = await s.json(`/api/torrents/${'cd'.repeat(20)}/announce`, { method: 'POST' });
  assert.equal(ann.status, 404);
  const malformed = await s.json('/api/torrents/not-a-hash/announce', { method: 'POST' });
  assert.equal(malformed.status, 400, JSON.stringify(malformed.body));
  const annBad = await s.json('/api/torrents/xyz/announce', { method: 'POST' });
  assert.equal(annBad.status, 400);

  // No torrent asked about: the node-wide checks (this test node is on loopback with the DHT off).
  const general = await ask(s, { question: 'nobody connects to me, is my port open?' });
  assert.equal(general.status, 200);
  assert.ok(Array.isArray(general.body.findings));
  assert.equal(general.body.answeredBy, 'built-in');

  // The documented schema.
  const doc = (await s.json('/api/docs/json')).body;
  assert.ok(doc.paths['/api/assistant'].post.summary);
  assert.ok(doc.paths['/api/assistant'].get.summary);
  assert.ok(doc.paths['/api/torrents/{infoHash}/announce'].post.summary);
});
