// A paused torrent's files changed while the node was down (issue 63: "no file is reported complete
// that is not"): a paused torrent is not checked until it starts, so it was listed by its resume
// record's claims — complete, with its file deleted. libtorrent checks a paused torrent's resume data
// at load ("fastresume rejected: mismatching file size"); the node now holds the claims against the
// files soon after it loads them. Three paused seeds: one file deleted (and put back later, as a
// disk mounted again), one given another mtime, one untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, utimesSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shareBytes, startServe, torrentDetail, until, type ServeNode } from './node-process.ts';
import { tempDir } from './helpers.ts';

const share = shareBytes;
const detail = torrentDetail;
/** GET /api/torrents: the listing's cached rows, by infohash. */
const listed = async (node: ServeNode) => new Map(((await (await node.api('/api/torrents')).json()) as { torrents: Record<string, any>[] }).torrents.map((r) => [r.infoHash as string, r]));

/** qBittorrent's torrents/info and Transmission's torrent-get, as their clients call them: states and errors by infohash. */
async function compatViews(node: ServeNode): Promise<{ qb: Map<string, string>; tr: Map<string, { error: number; errorString: string }> }> {
  const login = await fetch(`${node.url}/api/v2/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'admin', password: node.token }) });
  const sid = /SID=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(sid, `qBittorrent login: ${login.status}`);
  const info = (await (await fetch(`${node.url}/api/v2/torrents/info`, { headers: { cookie: `SID=${sid}` } })).json()) as { hash: string; state: string }[];
  const auth = `Basic ${Buffer.from(`someone:${node.token}`).toString('base64')}`;
  const body = JSON.stringify({ method: 'torrent-get', arguments: { fields: ['hashString', 'error', 'errorString'] } });
  let r = await fetch(`${node.url}/transmission/rpc`, { method: 'POST', headers: { authorization: auth }, body });
  if (r.status === 409) r = await fetch(`${node.url}/transmission/rpc`, { method: 'POST', headers: { authorization: auth, 'x-transmission-session-id': r.headers.get('x-transmission-session-id') ?? '' }, body });
  const got = (await r.json()) as { arguments: { torrents: { hashString: string; error: number; errorString: string }[] } };
  return { qb: new Map(info.map((x) => [x.hash, x.state])), tr: new Map(got.arguments.torrents.map((x) => [x.hashString, x])) };
}

/** What every door says of the three (deleted, changed, kept) while the deleted one's file is gone. */
async function assertMissingShown(node: ServeNode, ihs: string[], when: string): Promise<void> {
  const rows = await listed(node);
  const [deleted, changed, kept] = ihs.map((ih) => rows.get(ih)!);
  assert.deepEqual([deleted!.progress, changed!.progress, kept!.progress], [0, 0, 1], `${when}: the list's progress (its cached rows built again)`);
  assert.deepEqual(deleted!.missingFiles, ['deleted.bin'], `${when}: the deleted file named`);
  assert.match(deleted!.error ?? '', /^No data found for 1 file \(deleted\.bin\)/, when);
  assert.equal(changed!.missingFiles, undefined, `${when}: a changed file is not missing`);
  assert.equal(changed!.error, null);
  assert.equal(kept!.missingFiles, undefined);
  const { qb, tr } = await compatViews(node);
  assert.deepEqual(ihs.map((ih) => qb.get(ih)), ['missingFiles', 'pausedDL', 'pausedUP'], `${when}: qBittorrent's states`);
  assert.deepEqual(ihs.map((ih) => tr.get(ih)!.error), [3, 0, 0], `${when}: Transmission's local error`);
  assert.match(tr.get(ihs[0]!)!.errorString, /No data found/);
}

test("a paused torrent's files deleted or changed while the node was down: not listed complete", { timeout: 120_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  let node = await startServe(t, { stateDir, args: ['--no-chain'] });
  const names = ['deleted.bin', 'changed.bin', 'kept.bin'];
  const ihs: string[] = [];
  for (const n of names) ihs.push(await share(node, n, randomBytes(3 * 256 * 1024 + 11)));
  const paths: string[] = [];
  for (const ih of ihs) {
    await until(`${ih} seeding`, async () => ((await detail(node, ih)).progress === 1 ? true : undefined), 30_000);
    const r = await node.api(`/api/torrents/${ih}/pause`, { method: 'POST' });
    assert.ok(r.status < 300, await r.text());
    const d = await detail(node, ih);
    paths.push(join(d.savePath as string, d.name as string));
  }
  for (const ih of ihs) await until(`${ih} paused`, async () => ((await detail(node, ih)).state === 'paused' ? true : undefined));
  await node.stop();

  // The deleted one as it was, to put back later (a disk mounted again: same bytes, same mtime).
  const gone = { bytes: readFileSync(paths[0]!), st: statSync(paths[0]!) };
  rmSync(paths[0]!);
  const st = statSync(paths[1]!);
  utimesSync(paths[1]!, st.atime, new Date(st.mtimeMs - 3_600_000));

  node = await startServe(t, { stateDir, args: ['--no-chain'] });
  // The list built before the claims are held (its rows cached), so that it must build them again.
  assert.equal((await listed(node)).get(ihs[0]!)?.progress, 1, 'listed by its record until its claims are held');
  const dropped = await until('the changed files reported', async () => {
    const e = node.events.filter((x) => x.event === 'claims-dropped');
    return e.length >= 2 ? e : undefined;
  }, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(node.events.filter((x) => x.event !== 'peer-identified').slice(-20))}`);
  });
  assert.deepEqual(dropped.map((e) => e.infoHash).sort(), [ihs[0], ihs[1]].sort(), 'the deleted and the changed file, not the kept one');
  for (const e of dropped) assert.equal(e.pieces, (await detail(node, e.infoHash)).pieceCount, `every piece of ${e.files}`);
  for (const [i, ih] of ihs.entries()) {
    const d = await detail(node, ih);
    const files = d.files as { progress: number }[];
    assert.equal(d.state, 'paused', names[i]);
    assert.equal(d.progress, i === 2 ? 1 : 0, `${names[i]}: listed progress`);
    assert.deepEqual(files.map((f) => f.progress), [i === 2 ? 1 : 0], `${names[i]}: the file's progress`);
  }
  await assertMissingShown(node, ihs, 'after the restart that found it gone');
  // The narrowed records are what is stored: after another restart the same, said once only.
  await node.stop();
  node = await startServe(t, { stateDir, args: ['--no-chain'] });
  await new Promise((r) => setTimeout(r, 4000));
  assert.deepEqual(node.events.filter((x) => x.event === 'claims-dropped'), [], 'nothing more to drop');
  for (const [i, ih] of ihs.entries()) assert.equal((await detail(node, ih)).progress, i === 2 ? 1 : 0, `${names[i]} after another restart`);
  // Still missing: the narrowed record keeps the size it saw, so the file is still known to have had data.
  await until('the missing file found again', async () => ((await listed(node)).get(ihs[0]!)?.missingFiles ? true : undefined), 15_000);
  await assertMissingShown(node, ihs, 'after another restart');
  // The deleted file put back as it was (same bytes and mtime: a disk mounted again), then all
  // resumed: the kept one seeds on its record; the changed one and the one put back check and find
  // their data whole — hashed, not fetched (there is no peer). Had the narrowed record kept the old
  // stats, the one put back would have matched them and its pieces been taken as missing.
  writeFileSync(paths[0]!, gone.bytes);
  utimesSync(paths[0]!, gone.st.atimeMs / 1000, gone.st.mtimeMs / 1000); // to the microsecond: the same mtime the record saw
  for (const ih of ihs) assert.ok((await node.api(`/api/torrents/${ih}/resume`, { method: 'POST' })).status < 300);
  for (const ih of ihs) await until(`${ih} complete again after its check`, async () => ((await detail(node, ih)).progress === 1 ? true : undefined), 30_000);
  const after = await listed(node);
  assert.deepEqual(ihs.map((ih) => [after.get(ih)!.missingFiles, after.get(ih)!.error]), ihs.map(() => [undefined, null]), 'checked: nothing missing');
  assert.deepEqual(ihs.map((ih) => after.get(ih)!.progress), [1, 1, 1]);
  await node.stop();
});
