// GET /api/health/ready (issue 42 item 4): what balancers and readiness probes ask. Ready once the
// library has loaded and the state store answers; not ready, with the reason, when the store fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from './server-helpers.ts';

test('GET /api/health/ready: 200 once the library is loaded; 503 with the reason when the state store fails, the detail for members only', async (t) => {
  const s = await startTestServer(t);
  await s.ready;
  const ok = await s.json('/api/health/ready', { anonymous: true });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual(ok.body, { ready: true, checks: { library: 'loaded', store: 'ok', stopping: false } });
  // The store stops answering (what a PostgreSQL outage looks like from here): not ready, and why.
  await s.node.db.close();
  const down = await s.json('/api/health/ready', { anonymous: true });
  assert.equal(down.status, 503);
  assert.equal(down.body.ready, false);
  assert.equal(down.body.reason, 'the state store does not answer');
  assert.deepEqual(down.body.checks, { library: 'loaded', store: 'failing', stopping: false });
  const asOwner = await s.json('/api/health/ready');
  assert.equal(asOwner.status, 503);
  assert.match(asOwner.body.reason, /^the state store does not answer \(.*cascade\.db: .+\)$/);
});
