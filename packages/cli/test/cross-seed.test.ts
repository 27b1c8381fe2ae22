// Seeding data already on disk, as cross-seed and *arr tools do it: add the .torrent paused through
// qBittorrent's API with the folder the data is in, recheck, and it is complete without a byte
// fetched. Before, a torrent that had never looked at its disk ignored the recheck (0% for ever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '@cascade/engine';
import { startServe, torrentDetail, until } from './node-process.ts';
import { tempDir } from './helpers.ts';

test('a torrent added paused over data already there is complete after a recheck, and stays paused', { timeout: 90_000 }, async (t) => {
  const root = tempDir(t);
  const data = join(root, 'library', 'album');
  mkdirSync(data, { recursive: true });
  writeFileSync(join(data, '01.flac'), randomBytes(700_000));
  writeFileSync(join(data, '02.flac'), randomBytes(400_000));
  const { torrent, metainfo } = await createTorrent(data, { pieceLength: 64 * 1024 });
  const node = await startServe(t, { args: ['--no-chain'] });
  const login = await fetch(`${node.url}/api/v2/auth/login`, { method: 'POST', body: new URLSearchParams({ username: 'admin', password: node.token }) });
  const cookie = `SID=${/SID=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1]}`;
  const qb = (path: string, body?: FormData | URLSearchParams) => fetch(`${node.url}/api/v2/${path}`, { method: body ? 'POST' : 'GET', headers: { cookie }, body });
  const form = new FormData();
  form.set('torrents', new Blob([Buffer.from(torrent)]), 'album.torrent');
  form.set('savepath', join(root, 'library'));
  form.set('paused', 'true');
  assert.equal((await qb('torrents/add', form)).status, 200);
  const ih = metainfo.infoHashHex;
  const info = async () => ((await (await qb(`torrents/info?hashes=${ih}`)).json()) as { state: string; progress: number }[])[0]!;
  await until('listed', async () => ((await info()) ? true : undefined));
  assert.deepEqual(await info(), { ...(await info()), state: 'pausedDL', progress: 0 }, 'added paused: nothing looked at yet');
  assert.equal((await qb('torrents/recheck', new URLSearchParams({ hashes: ih }))).status, 200);
  const done = await until('complete', async () => {
    const x = await info();
    return x.progress === 1 ? x : undefined;
  }, 30_000);
  assert.equal(done.state, 'pausedUP', 'complete and still paused');
  const d = await torrentDetail(node, ih);
  assert.equal(d.downloaded ?? 0, 0, 'nothing fetched');
});
