// The chain over HTTP (issue 13): a torrent's registration, registering it from the web app's
// routes, the rewards and a claim with nothing to claim; members only, registering and claiming for
// the owner. Real embedded chain (anvil).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formWith, patternBytes, startTestServer } from './server-helpers.ts';

test('registration, register, rewards and claim over HTTP, on the embedded chain', { timeout: 120_000 }, async (t) => {
  const s = await startTestServer(t, { chain: {} });
  const deadline = Date.now() + 60_000;
  while ((await s.json('/api/health')).body.chain.state !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['notes.txt', patternBytes(300_000, 3)]]) });
  assert.equal(up.status, 201, JSON.stringify(up.body));
  const ih = up.body.infoHash as string;

  assert.deepEqual((await s.json(`/api/torrents/${ih}/registration`)).body, { registered: false, infoHash: ih });
  assert.equal((await s.json(`/api/torrents/${ih}/registration`, { anonymous: true } as never)).status, 401);
  assert.equal((await s.json(`/api/torrents/${ih}/register`, { method: 'POST', anonymous: true } as never)).status, 401);
  assert.equal((await s.json(`/api/torrents/${'0'.repeat(40)}/registration`)).status, 404);
  assert.equal((await s.json(`/api/torrents/${'0'.repeat(40)}/register`, { method: 'POST' })).status, 404);
  for (const bad of ['zz', 'a'.repeat(41), '..%2f..%2fetc']) {
    assert.equal((await s.json(`/api/torrents/${bad}/registration`)).status, 400, bad);
    assert.equal((await s.json(`/api/torrents/${bad}/register`, { method: 'POST' })).status, 400, bad);
  }
  assert.equal((await s.json('/api/rewards/claim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' })).status, 400);

  const reg = await s.json(`/api/torrents/${ih}/register`, { method: 'POST' });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  assert.equal(reg.body.owner, s.identity.address);
  assert.match(reg.body.tx, /^0x[0-9a-f]{64}$/);
  const again = await s.json(`/api/torrents/${ih}/register`, { method: 'POST' });
  assert.equal(again.body.tx, null, 'already ours: no transaction');

  const seen = (await s.json(`/api/torrents/${ih}/registration`)).body;
  assert.deepEqual(
    { registered: seen.registered, owner: seen.owner, did: seen.did, ours: seen.ours, matches: seen.matches, metadataCid: seen.metadataCid },
    { registered: true, owner: s.identity.address, did: s.identity.did, ours: true, matches: true, metadataCid: reg.body.metadataCid },
  );

  const rewards = (await s.json('/api/rewards')).body;
  assert.deepEqual([rewards.earnedBytes, rewards.claimedBytes, rewards.pendingBytes, rewards.balance, rewards.receipts], [0, 0, 0, '0', 0]);
  assert.equal(rewards.account, s.identity.address);
  const claim = await s.json('/api/rewards/claim', { method: 'POST' });
  assert.deepEqual(claim.body, { tx: null, claimedBytes: 0, skipped: [] });
  assert.equal((await s.json('/api/rewards', { anonymous: true } as never)).status, 401);
});

test('without a chain the routes say so (409), not a crash', { timeout: 60_000 }, async (t) => {
  const s = await startTestServer(t);
  const up = await s.json('/api/torrents', { method: 'POST', body: formWith([['a.txt', patternBytes(1000, 1)]]) });
  const r = await s.json(`/api/torrents/${up.body.infoHash}/registration`);
  assert.equal(r.status, 409);
  assert.match(r.body.message, /without a chain/);
  assert.equal((await s.json('/api/rewards')).status, 409);
});
