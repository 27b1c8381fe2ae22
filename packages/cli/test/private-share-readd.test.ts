// A private share removed with its data and added again by its link (bench:crash: 'lost 5 of 5
// verified pieces' of a share after a kill). Removing a share the engine had not started (paused
// at the node's start) made its storage to delete the files, and with it a storage decision cached
// after the share was forgotten; the add that followed used that decision, made for the old copy,
// so the written marker that the link's key cleared was never set again. At the next start the
// share's own plaintext read as 'not this node's': it was fetched again, as ciphertext.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServe, until, type ServeNode } from './node-process.ts';
import { tempDir } from './helpers.ts';

async function detail(node: ServeNode, ih: string): Promise<Record<string, any>> {
  return (await (await node.api(`/api/torrents/${ih}`)).json()) as Record<string, any>;
}

async function ask(node: ServeNode, path: string, init: RequestInit = {}): Promise<void> {
  const r = await node.api(path, init);
  assert.ok(r.ok, `${init.method ?? 'GET'} ${path}: ${r.status} ${await r.text()}`);
}

const addLink = (node: ServeNode, link: string, peer: ServeNode) =>
  ask(node, '/api/torrents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uri: link, peers: [`127.0.0.1:${peer.btPort}`] }) });

const read = (d: Record<string, any>) => d.decryptable === true && d.error === null && d.progress === 1 && d.files?.[0]?.progress === 1;
/** What a failed `read` shows of the share. */
const seen = (d: Record<string, any>) => JSON.stringify({ state: d.state, progress: d.progress, error: d.error, decryptable: d.decryptable, files: d.files });

test('a share removed with its data and added again by its link is still read as plaintext after a restart', { timeout: 180_000 }, async (t) => {
  const root = tempDir(t);
  const a = await startServe(t, { args: ['--download-dir', join(root, 'a-dl')] });
  const bArgs = { args: ['--download-dir', join(root, 'b-dl')] };
  let b = await startServe(t, bArgs);
  const data = randomBytes(300_000);
  const form = new FormData();
  form.append('encrypt', 'true');
  form.append('file', new Blob([new Uint8Array(data)]), 'minutes.pdf');
  const made = await a.api('/api/torrents', { method: 'POST', body: form });
  const share = (await made.json()) as Record<string, any>;
  assert.equal(made.status, 201, JSON.stringify(share));
  const ih = share.infoHash as string;
  const plain = join(root, 'b-dl', 'minutes.pdf');

  await addLink(b, share.link, a);
  await until('B to read the share', async () => (read(await detail(b, ih)) ? true : undefined), 60_000);
  // Paused across a restart: the engine holds it without a storage (its start never reached its files).
  await ask(b, `/api/torrents/${ih}/pause`, { method: 'POST' });
  await b.stop();
  b = await startServe(t, { ...bArgs, stateDir: b.stateDir });
  await ask(b, `/api/torrents/${ih}?deleteData=true`, { method: 'DELETE' });
  await until('its plaintext to go', async () => { try { readFileSync(plain); return undefined; } catch { return true; } });

  await addLink(b, share.link, a);
  let last: Record<string, any> = {};
  await until('B to read the share added again', async () => (read((last = await detail(b, ih))) ? true : undefined), 60_000).catch((err: Error) => {
    throw new Error(`${err.message}: ${seen(last)}`);
  });
  assert.ok(readFileSync(plain).equals(data));
  await b.stop();
  b = await startServe(t, { ...bArgs, stateDir: b.stateDir });
  const after = await until('B to have looked at it after the restart', async () => {
    const d = await detail(b, ih);
    return d.state === 'seeding' || d.state === 'downloading' || d.error ? d : undefined;
  }, 30_000);
  assert.ok(read(after), `after the restart: ${seen(after)}`);
  assert.equal(after.downloaded, 0, 'nothing fetched again');
  assert.ok(readFileSync(plain).equals(data));
});
