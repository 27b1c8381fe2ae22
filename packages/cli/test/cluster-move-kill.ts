// Two members holding a folder of many small files, b killed inside the move of its copy asked
// through a (cluster-move-crash, cluster-move-crash-removed).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { detail, holdersWhen, liveDone, type Member, type TestCluster } from './cluster-process.ts';

export const FILES = 1500;

export interface KilledInsideMove {
  a: Member;
  /** b, killed. */
  b: Member;
  ih: string;
  /** b's copy's folder before the move, and the one it moved to. */
  from: string;
  to: string;
  /** How many of the torrent's files are under `dir`. */
  filesIn: (dir: string) => number;
}

export async function killInsideMove(cluster: TestCluster, hosts: readonly [string, string]): Promise<KilledInsideMove> {
  const a = await cluster.start('a', hosts[0]);
  const b = await cluster.start('b', hosts[1]);
  // A folder of many small files, shared through a: the move of b's copy is long enough to kill it inside.
  const form = new FormData();
  for (let i = 0; i < FILES; i++) form.append('files', new Blob([randomBytes(1500 + (i % 7))]), `f${String(i).padStart(4, '0')}.bin`);
  const r = await a.node.api('/api/torrents', { method: 'POST', body: form });
  const { infoHash: ih } = (await r.json()) as { infoHash: string };
  assert.equal(r.status, 201);
  await holdersWhen(a, ih, 'both copies done', (h) => liveDone(h).length === 2, 120_000);
  const name = (await detail(b, ih))!.name as string;
  const filesIn = (dir: string) => (existsSync(join(dir, name)) ? readdirSync(join(dir, name), { recursive: true }).filter((n) => String(n).endsWith('.bin')).length : 0);
  const from = (await detail(b, ih))!.savePath as string;
  const to = join(b.stateDir, 'downloads', 'moved');
  assert.equal(filesIn(from), FILES);

  // The move through a: a moves its own copy before the answer, then b follows, file by file.
  const moved = await a.node.api(`/api/torrents/${ih}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ savePath: 'moved' }) });
  assert.equal(moved.status, 200, await moved.text());
  const end = Date.now() + 60_000;
  while (filesIn(to) < 50) {
    assert.ok(Date.now() < end, 'b never moved its copy');
    await new Promise((r) => setTimeout(r, 2));
  }
  b.node.child.kill('SIGKILL');
  await once(b.node.child, 'exit');
  const split = filesIn(to);
  assert.ok(split > 0 && split < FILES, `the kill landed inside b's move (${split} of ${FILES} files moved)`);
  return { a, b, ih, from, to, filesIn };
}
