// The assistant on a download into a disk that fills up: a 1 MiB tmpfs (root: mount) as the save
// path of a 4 MiB torrent from a real seeder. The torrent stops on ENOSPC; the API answers with
// disk-error (the engine's own words) and disk-full (free space against what is left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, bareServer, finding, isRoot, seeder, smallDisk, until, KiB, MiB } from './assistant-helpers.ts';

test('a full disk: disk-error and disk-full, with the free space and what the torrent still needs', async (t) => {
  assert.ok(isRoot, 'this test mounts a small tmpfs: run it as root (npm test does in CI)');
  const disk = smallDisk(t, '1m');
  const seed = await seeder(t, 4 * MiB, 256 * KiB);
  const s = await bareServer(t);
  const h = await s.node.addWith(seed.torrent, { savePath: disk }, { peers: [seed.peer] });
  await until('the torrent to stop on the full disk', () => (h.stats().state === 'error' ? true : undefined));

  const r = await ask(s, { question: 'download stopped with an error, what happened?', infoHash: seed.infoHash });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const de = finding(r.body, 'disk-error');
  assert.equal(de.severity, 'problem');
  assert.match(de.evidence, /ENOSPC|no space left/i);
  assert.ok(de.evidence.includes(disk), de.evidence);
  const df = finding(r.body, 'disk-full');
  assert.match(df.evidence, /free of .* at /);
  assert.ok(df.evidence.includes(disk), df.evidence);
  assert.match(df.evidence, /still needs \d/);
  assert.ok(df.actions.some((a) => a.href === '#/settings'));
  assert.ok(de.actions.some((a) => a.request?.path === `/api/torrents/${seed.infoHash}/recheck`));

  // Node-wide, the engine counted the failed writes.
  const { runChecks } = await import('@cascade/assistant');
  const { AssistantNodeView } = await import('@cascade/node-assistant');
  const view = new AssistantNodeView(s.node, { bittorrentHost: '127.0.0.1' });
  t.after(() => view.close());
  const general = await runChecks(view);
  const g = general.find((f) => f.id === 'disk-error');
  assert.ok(g, JSON.stringify(general));
  assert.match(g.evidence, /\d+ disk errors? since the node started/);
});
