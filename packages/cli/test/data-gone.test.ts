// A served library whose data is all gone at a start (the drive it is on not mounted): the torrent
// stops with "No data found" instead of downloading everything again onto whatever disk the empty
// mount point is on (Transmission's "No data found!", qBittorrent's missingFiles). Resumed by the
// user, it downloads; with its data put back and resumed, it is complete without a byte fetched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { shareBytes, startServe, torrentDetail, until, type ServeNode } from './node-process.ts';
import { tempDir } from './helpers.ts';

const share = shareBytes;
const detail = torrentDetail;

test('a seeding torrent whose data is gone at start stops with "No data found"; put back and resumed it is complete, resumed without it downloads', { timeout: 120_000 }, async (t) => {
  const stateDir = join(tempDir(t), 'state');
  let node = await startServe(t, { stateDir, args: ['--no-chain'] });
  const bytes = randomBytes(3 * 256 * 1024 + 5);
  const [kept, gone, paused] = [await share(node, 'kept.bin', bytes), await share(node, 'gone.bin', randomBytes(2 * 256 * 1024)), await share(node, 'paused.bin', randomBytes(300_000))];
  const paths = new Map<string, string>();
  for (const ih of [kept, gone, paused]) {
    await until(`${ih} seeding`, async () => ((await detail(node, ih)).progress === 1 ? true : undefined), 30_000);
    const d = await detail(node, ih);
    paths.set(ih, join(d.savePath as string, d.name as string));
  }
  assert.ok((await node.api(`/api/torrents/${paused}/pause`, { method: 'POST' })).status < 300);
  await until('paused', async () => ((await detail(node, paused)).state === 'paused' ? true : undefined));
  await node.stop();
  // All three "on a drive that did not mount": moved away (one comes back later), the folder left empty.
  const aside = join(tempDir(t), 'unmounted');
  mkdirSync(aside);
  for (const ih of [kept, gone, paused]) renameSync(paths.get(ih)!, join(aside, ih));

  node = await startServe(t, { stateDir, args: ['--no-chain'] });
  for (const ih of [kept, gone]) {
    const d = await until(`${ih} stopped`, async () => {
      const x = await detail(node, ih);
      return x.state === 'error' ? x : undefined;
    }, 30_000);
    assert.match(d.error, /^No data found: its file is not in .*\. Is the drive connected\?/);
    assert.equal(existsSync(paths.get(ih)!), false, 'nothing was created in its place');
  }
  // The paused one: listed with its file missing once its claims are held (2 s after the load).
  await until('paused: missing', async () => ((await detail(node, paused)).missingFiles ? true : undefined), 15_000);
  const login = await fetch(`${node.url}/api/v2/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'admin', password: node.token }) });
  const sid = /SID=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
  const info = (await (await fetch(`${node.url}/api/v2/torrents/info`, { headers: { cookie: `SID=${sid}` } })).json()) as { hash: string; state: string }[];
  assert.deepEqual(info.map((x) => x.state), ['missingFiles', 'missingFiles', 'missingFiles'], 'qBittorrent: missingFiles');
  // Its record narrowed (no claim left), resumed by a "resume all" that did not look: it still
  // stops rather than downloading.
  assert.ok((await node.api(`/api/torrents/${paused}/resume`, { method: 'POST' })).status < 300);
  const p = await until('paused: stopped once resumed', async () => {
    const x = await detail(node, paused);
    return x.state === 'error' ? x : undefined;
  }, 30_000);
  assert.match(p.error, /^No data found/);
  assert.equal(existsSync(paths.get(paused)!), false);
  // Rechecked with its data still gone: it looks (it never had, so before it stayed as it was) and
  // stops again, rather than taking the recheck for "fetch it all again".
  const recheck = async (ih: string) => {
    const r = await node.api(`/api/torrents/${ih}/recheck`, { method: 'POST' });
    assert.ok(r.status < 300, `recheck: ${r.status}`);
    return (await r.json()) as { state?: string };
  };
  assert.equal((await recheck(paused)).state, 'checking');
  const again = await until('rechecked: stopped again', async () => {
    const x = await detail(node, paused);
    return x.state === 'error' ? x : undefined;
  }, 30_000);
  assert.match(again.error, /^No data found/);
  assert.equal(existsSync(paths.get(paused)!), false, 'nothing was created in its place');
  // Its data put back and rechecked: complete, nothing fetched.
  renameSync(join(aside, paused), paths.get(paused)!);
  await recheck(paused);
  await until('rechecked: complete', async () => ((await detail(node, paused)).progress === 1 ? true : undefined), 30_000);
  assert.equal((await detail(node, paused)).error, null);

  // The drive is back for one of them: resumed, it checks and seeds, nothing fetched (no peer here).
  renameSync(join(aside, kept), paths.get(kept)!);
  assert.ok((await node.api(`/api/torrents/${kept}/resume`, { method: 'POST' })).status < 300);
  await until('complete again', async () => ((await detail(node, kept)).progress === 1 ? true : undefined), 30_000);
  assert.deepEqual(readFileSync(paths.get(kept)!), Buffer.from(bytes));
  // The other is resumed as it is: the user asked for it to be fetched again, so it downloads.
  assert.ok((await node.api(`/api/torrents/${gone}/resume`, { method: 'POST' })).status < 300);
  const d = await until('downloading', async () => {
    const x = await detail(node, gone);
    return x.state !== 'error' ? x : undefined;
  }, 30_000);
  assert.equal(d.error, null);
  assert.ok(['downloading', 'queued'].includes(d.state), d.state);
  assert.ok(existsSync(dirname(paths.get(gone)!)));
  // The user's word outlives a restart before anything was fetched (no peer here): it does not stop again.
  await new Promise((r) => setTimeout(r, 1500)); // its record saved (1 s after the check)
  await node.stop();
  node = await startServe(t, { stateDir, args: ['--no-chain'] });
  await until('loaded', async () => ((await detail(node, gone)).state ? true : undefined));
  await new Promise((r) => setTimeout(r, 3000)); // past its start's look at the disk
  const after = await detail(node, gone);
  assert.notEqual(after.state, 'error', `after a restart: ${after.error}`);
  await node.stop();
});
