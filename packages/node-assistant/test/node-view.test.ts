// The assistant on a real node (no HTTP): the view says what the node is (its version, loopback
// reachability, limits, disk space where it saves) and what a torrent is doing; startAssistant works
// without help entries; the `ask` RPC refuses a missing question and names an unknown torrent as such.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startNode, silentLog, NodeError, type CascadeNode } from '@cascade/node';
import { tempDir } from '../../node/test/helpers.ts';
import { AssistantNodeView, DEFAULT_HELP_DIR, assistantRpc, startAssistant } from '../index.ts';

const IH = 'cd'.repeat(20);

async function node(t: TestContext): Promise<CascadeNode> {
  const n = await startNode({ stateDir: join(tempDir(t), 'state'), port: 0, host: '127.0.0.1', dht: false, dhtBootstrap: [], trackers: [], iceServers: [] }, silentLog);
  t.after(() => n.stop());
  return n;
}

test('the view: the node on loopback, its limits and disk, a torrent waiting for metadata', async (t) => {
  const n = await node(t);
  const view = new AssistantNodeView(n, { bittorrentHost: '127.0.0.1' });
  t.after(() => view.close());
  const h = await view.health();
  assert.equal(h.version, '0.1.0');
  assert.equal(h.reachability, 'local-only', 'bound to loopback: nobody else reaches it');
  assert.equal(h.incomingPeers, 0);
  assert.equal(h.bittorrentPort, n.session.port);
  assert.equal(h.torrents, 0);
  assert.equal(h.downloadDir, n.model.getSettings().downloadDir);
  assert.ok(h.disk && h.disk.total > 0 && h.disk.free >= 0, JSON.stringify(h.disk));
  assert.deepEqual(view.torrents(), []);

  await n.addWith(`magnet:?xt=urn:btih:${IH}`, {});
  const [light] = view.torrents();
  assert.equal(light?.infoHash, IH);
  assert.deepEqual([light?.hashFailures, light?.bannedPeers], [0, []]);
  const full = await view.torrent(IH.toUpperCase());
  assert.equal(full?.infoHash, IH);
  assert.equal(full?.isPrivate, false);
  assert.deepEqual(full?.peerList, []);
  assert.equal(await view.torrent('ef'.repeat(20)), undefined);
});

test('startAssistant without help entries answers from its checks; `ask` refuses bad input', async (t) => {
  assert.ok(existsSync(join(DEFAULT_HELP_DIR, 'add-torrent.md')), `the repo's help entries at ${DEFAULT_HELP_DIR}`);
  const n = await node(t);
  const notes: string[] = [];
  const helper = startAssistant(n, { bittorrentHost: '127.0.0.1', helpDir: join(tempDir(t), 'no-help'), log: (line) => notes.push(line) });
  t.after(() => helper.close());
  assert.match(notes.join('\n'), /no help entries at .*no-help/);
  const rpc = assistantRpc(n, helper.assistant);
  const answer = (await rpc.ask!({ question: 'is my node reachable?' })) as { answer: string; answeredBy: string };
  assert.equal(answer.answeredBy, 'built-in');
  assert.equal(typeof answer.answer, 'string');
  await assert.rejects(Promise.resolve().then(() => rpc.ask!({})), (err: unknown) => err instanceof NodeError && err.kind === 'invalid' && /question/.test(err.message));
  await assert.rejects(
    Promise.resolve().then(() => rpc.ask!({ question: 'why is it slow?', infoHash: 'ef'.repeat(20) })),
    (err: unknown) => err instanceof NodeError && err.kind === 'not-found',
  );
});
